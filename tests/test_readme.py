import re
import shutil

from tests import REPO


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## The model in Python", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README has a Python example of the model"
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert namespace["stereo"].shape[:2] == (1, 2)
    assert (tmp_path / "my-upmixer" / "model.safetensors").exists()
