"""Fitting the spatial codec's rvq tables from a folder of stereo songs, and training on them."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from mono2stereo.modeling import Mono2StereoModel
from mono2stereo.modeling.spatial_rvq import RVQ_TABLES_FILE
from mono2stereo.training.config import ModelSource
from mono2stereo.training.model_loading import build_model
from mono2stereo.training.spatial_rvq_fit import main
from tests import REPO

TINY_SPATIAL = os.path.join(REPO, "configs/model/tiny-spatial.json")


def write_songs(folder, count: int = 3, rate: int = 8000) -> None:
    """Random stereo songs (a panned source plus diffuse noise), and one mono file the fit must skip."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for index in range(count):
        source, diffuse = rng.standard_normal((2, rate)) * 0.1
        pan = rng.uniform(0.2, 0.8)
        stereo = np.stack([pan * source + 0.3 * diffuse, (1 - pan) * source - 0.3 * diffuse], axis=1)
        sf.write(folder / f"song{index}.wav", stereo.astype(np.float32), rate)
    sf.write(folder / "mono.wav", rng.standard_normal(rate).astype(np.float32) * 0.1, rate)


def test_the_fit_command_writes_an_rvq_config_and_tables_that_a_training_run_loads(tmp_path):
    write_songs(tmp_path / "songs")
    output = tmp_path / "rvq"
    argv = ["--audio", str(tmp_path / "songs"), "--config", TINY_SPATIAL, "--output", str(output)]
    assert main([*argv, "--codebooks", "2", "--size", "8", "--iterations", "3"]) == 0
    codec = json.loads((output / "config.json").read_text())["codec"]
    assert (codec["tokenizer"], codec["rvq_codebooks"], codec["rvq_size"]) == ("rvq", 2, 8)
    assert (output / RVQ_TABLES_FILE).is_file()

    model = build_model(ModelSource(config=str(output / "config.json"), codec=str(output)))
    assert model.config.num_stereo_codebooks == 2 and model.config.codebook_size == 8
    stereo = torch.from_numpy(sf.read(tmp_path / "songs" / "song0.wav", dtype="float32")[0].T.copy())[None]
    tokens = model.encode_stereo(stereo)
    assert tokens.shape[:2] == (1, 2) and int(tokens.max()) < 8
    model.save_pretrained(tmp_path / "model")
    assert torch.equal(Mono2StereoModel.from_pretrained(tmp_path / "model").encode_stereo(stereo), tokens)


def test_a_fit_without_stereo_songs_or_on_a_scalar_model_fails_with_a_reason(tmp_path, capsys):
    folder = tmp_path / "mono"
    folder.mkdir()
    sf.write(folder / "a.wav", np.zeros(8000, np.float32), 8000)
    assert main(["--audio", str(folder), "--config", TINY_SPATIAL, "--output", str(tmp_path / "out")]) == 2
    assert "stereo" in capsys.readouterr().err
    with pytest.raises(ValueError, match="tokenizer"):
        build_model(ModelSource(config=TINY_SPATIAL, codec=str(tmp_path)))


def test_the_committed_rvq_config_builds_a_model_with_its_tables():
    folder = os.path.join(REPO, "configs/model/spatial-32k-rvq")
    model = build_model(ModelSource(config=os.path.join(folder, "config.json"), codec=folder))
    assert model.codec.rvq.is_fitted and model.config.num_stereo_codebooks == 8 and model.config.codebook_size == 1024
    cues = torch.stack([torch.linspace(-20, 20, 50)[:, None].expand(50, 32), torch.full((50, 32), 0.9)], -1)[None]
    mirrored = torch.stack([-cues[..., 0], cues[..., 1]], -1)
    assert torch.equal(model.codec.tokenize(mirrored), model.codec.swap_channels(model.codec.tokenize(cues)))
