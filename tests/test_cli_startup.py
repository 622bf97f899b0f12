"""The command line starts fast and checks what it can before loading a model; failures are one line."""

import argparse
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from mono2stereo import cli
from mono2stereo.cli import main


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def loaded_modules_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter has imported after running `mono2stereo ARGV` (exit ignored)."""
    script = (
        "import sys\nfrom mono2stereo.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["upmix", "--help"],
        ["eval", "--help"],
        ["train", "--help"],
        ["train-codec", "--help"],
        ["release", "--help"],
        ["corpus", "--help"],
        ["upmix", "in.wav", "-o", "out.wav", "--model", "dsp:nosuch"],  # refused before torch or scipy load
    ],
)
def test_help_imports_neither_torch_nor_transformers(argv):
    modules = loaded_modules_after(*argv)
    assert "torch" not in modules and "transformers" not in modules and "scipy" not in modules


def test_help_lists_every_command_and_imports_no_command_module():
    modules = loaded_modules_after("--help")
    assert not {module for module, _ in cli.COMMANDS.values()} & modules


def test_every_command_is_filled_by_its_module_and_every_module_command_is_listed():
    import importlib

    for command, (module, _) in cli.COMMANDS.items():
        assert command in importlib.import_module(module).PARSERS, f"{module} does not define {command}"
    for module in {module for module, _ in cli.COMMANDS.values()}:
        unlisted = set(importlib.import_module(module).PARSERS) - set(cli.COMMANDS)
        assert not unlisted, f"{module} defines {unlisted}, which COMMANDS does not list"
    full = cli.build_parser()  # every command in full
    subcommands = next(action for action in full._actions if isinstance(action, argparse._SubParsersAction))
    assert {c.dest: c.help for c in subcommands._choices_actions} == {c: h for c, (_, h) in cli.COMMANDS.items()}
    for command, parser in subcommands.choices.items():
        assert parser.description and parser.get_default("handler") is not None, command


def test_the_command_modules_do_not_import_the_dispatcher():
    script = (
        "import sys\n"
        "for name in ('inference', 'mixing', 'training', 'evaluation'):\n"
        "    __import__(f'mono2stereo.{name}.cli')\n"
        "print('mono2stereo.cli' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.fixture()
def song(tmp_path):
    sf.write(tmp_path / "song.wav", np.zeros(800, dtype=np.float32) + 0.1, 8000)
    return tmp_path / "song.wav"


def test_an_existing_output_is_reported_before_any_model_loads(song, tmp_path, capsys):
    (tmp_path / "out.wav").write_bytes(b"keep me")
    code, _, err = run(capsys, "upmix", song, "-o", tmp_path / "out.wav", "--model", tmp_path / "no-model-here")
    assert code == 1 and "already exists; pass --overwrite" in err and "no-model-here" not in err
    assert (tmp_path / "out.wav").read_bytes() == b"keep me"


def test_an_unknown_dsp_upmixer_is_refused_before_the_inputs_are_read(tmp_path, capsys):
    code, _, err = run(capsys, "upmix", tmp_path / "missing.wav", "-o", tmp_path / "out.wav", "--model", "dsp:foo")
    assert code == 1 and "unknown DSP upmixer 'dsp:foo'" in err and "missing.wav" not in err


def test_an_unreachable_hub_id_fails_once_with_one_line(song, tmp_path, capsys, monkeypatch):
    import huggingface_hub
    import transformers

    def no_network(*args, **kwargs):
        raise ConnectionError("no route to host")

    loads = []
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", no_network)
    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", lambda *a, **k: loads.append(a))
    code, _, err = run(capsys, "upmix", song, "-o", tmp_path / "out.wav", "--model", "someone/no-such-model")
    assert code == 1 and loads == []
    assert err.count("\n") == 1 and "cannot reach the Hugging Face Hub for model 'someone/no-such-model'" in err


def test_a_hub_id_offline_and_not_cached_is_one_line(song, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    code, _, err = run(capsys, "upmix", song, "-o", tmp_path / "out.wav", "--model", "someone/no-such-model")
    assert code == 1 and err.count("\n") == 1 and "not in the local Hub cache" in err


def test_a_cuda_device_without_cuda_is_one_line(song, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    code, _, err = run(capsys, "upmix", song, "-o", tmp_path / "out.wav", "--model", "dsp:dual", "--device", "cuda")
    assert code == 1 and "--device cuda" in err and "--device cpu" in err and "Traceback" not in err


def test_threads_sets_the_threads_torch_uses(song, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        code, _, err = run(capsys, "upmix", song, "-o", tmp_path / "out.wav", "--model", "dsp:dual", "--threads", "1")
        assert code == 0, err and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_command_whose_extra_is_missing_names_the_extra(capsys, monkeypatch):
    def needs_accelerate(args):
        raise ModuleNotFoundError("No module named 'accelerate'", name="accelerate")

    parser = argparse.ArgumentParser(prog="mono2stereo")
    parser.add_subparsers().add_parser("train").set_defaults(handler=needs_accelerate)
    monkeypatch.setattr(cli, "build_parser", lambda argv=None: parser)
    code, _, err = run(capsys, "train")
    assert code == 1 and "pip install 'mono2stereo[train]'" in err and "Traceback" not in err


def test_a_hub_id_that_cannot_be_had_fails_before_torch_loads(tmp_path, monkeypatch):
    sf.write(tmp_path / "in.wav", np.zeros(800, dtype=np.float32), 8000)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    argv = ["upmix", str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav"), "--model", "nobody/no-such-model"]
    modules = loaded_modules_after(*argv)
    assert "torch" not in modules and "transformers" not in modules
    assert not (tmp_path / "out.wav").exists()
