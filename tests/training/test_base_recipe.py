"""The full-size recipe (`configs/train/base-encodec32k.yaml`) runs as written, with only what cannot be had
offline swapped for small local stand-ins: a tiny random codec for facebook/encodec_32khz, a dataset repository
on disk for the Hub dataset id, and a tiny model for the 204M one."""

import io
from pathlib import Path

import numpy as np
import soundfile
import torch
import yaml
from transformers import EncodecModel

from mono2stereo.modeling import randomize_codebooks, tiny_codec_config, tiny_config
from mono2stereo.training.config import TrainingConfig
from mono2stereo.training.loop import train
from tests import REPO


def write_dataset_repository(folder: Path, rate: int = 8000) -> None:
    import datasets

    folder.mkdir()
    (folder / "data").mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("validation", 2)):
        rows = {"audio": [], "style": []}
        for index in range(count):
            left, right = rng.standard_normal((2, rate // 2)) * np.array([[0.05], [0.3]])
            buffer = io.BytesIO()
            soundfile.write(buffer, np.stack([left, right], axis=1), rate, format="WAV")
            rows["audio"].append({"bytes": buffer.getvalue(), "path": f"{split}{index}.wav"})
            rows["style"].append("wide")
        table = datasets.Dataset.from_dict(rows).cast_column("audio", datasets.Audio())
        table.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    (folder / "README.md").write_text("---\nlicense: cc0-1.0\n---\nA tiny stereo dataset.\n")


def test_the_base_recipe_trains_with_local_stand_ins(tmp_path):
    settings = yaml.safe_load((REPO / "configs/train/base-encodec32k.yaml").read_text())
    assert settings["model"]["codec"] == "facebook/encodec_32khz"

    codec = EncodecModel(tiny_codec_config())
    randomize_codebooks(codec, torch.Generator().manual_seed(0))
    codec.save_pretrained(tmp_path / "codec")
    tiny_config().to_json_file(tmp_path / "model.json")
    write_dataset_repository(tmp_path / "dataset")

    settings["model"].update(config=str(tmp_path / "model.json"), codec=str(tmp_path / "codec"))
    for source in settings["data"]["sources"] + settings["data"]["eval_sources"]:
        if source["kind"] == "hub":
            source["path"] = str(tmp_path / "dataset")
        else:
            source.update(num_mixes=4, duration_s=0.5, num_shards=2)
    settings["data"]["shuffle_buffer"] = 8
    settings.update(batch_size=2, max_steps=2, warmup_steps=1, mixed_precision="no", report_to="none")
    settings.update(save_every=100, eval_every=2, eval_batches=1, log_every=1)

    result = train(TrainingConfig(**settings), str(tmp_path / "run"), show_progress=False)
    assert result.step == 2 and all(np.isfinite(result.losses))
    from mono2stereo.modeling import Mono2StereoModel

    trained = Mono2StereoModel.from_pretrained(tmp_path / "run")
    # The pretrained codec was copied into the frozen model.codec and stayed frozen.
    for name, value in codec.state_dict().items():
        assert torch.equal(trained.codec.state_dict()[name], value), name
