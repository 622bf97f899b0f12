import json
from pathlib import Path
from unittest import mock

import pytest
import torch
from huggingface_hub import HfApi
from transformers import AutoConfig, AutoModel
from transformers.utils import logging as transformers_logging

from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel, tiny_config, tiny_model
from tests import REPO


def test_save_and_auto_load_give_identical_outputs(tmp_path):
    model = tiny_model(seed=3)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert not list(tmp_path.glob("*.bin"))
    assert isinstance(AutoConfig.from_pretrained(tmp_path), Mono2StereoConfig)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, Mono2StereoModel)
    mono = torch.randint(0, 32, (2, 2, 10))
    stereo = torch.randint(0, 32, (2, 4, 10))
    assert torch.equal(loaded(mono, stereo).logits, model(mono, stereo).logits)
    assert torch.equal(loaded.generate(mono, seed=0), model.generate(mono, seed=0))
    audio = torch.randn(1, 2, 400) * 0.1
    assert torch.equal(loaded.encode_stereo(audio), model.encode_stereo(audio))


def test_saving_and_loading_print_no_progress_bar(tmp_path, capfd):
    import mono2stereo

    transformers_logging.enable_progress_bar()  # as in a fresh interpreter: bars on
    try:
        tiny_model().save_pretrained(tmp_path)
        Mono2StereoModel.from_pretrained(tmp_path)
        pipeline = mono2stereo.Mono2StereoPipeline.from_pretrained(tmp_path, device="cpu")
        mono2stereo.upmix(torch.randn(4000).numpy() * 0.1, 8000, model=str(tmp_path), seed=0)
        captured = capfd.readouterr()
        assert "Loading weights" not in captured.err and "Writing model shards" not in captured.err
        assert "it/s]" not in captured.err and "%|" not in captured.err, captured.err
        assert captured.out == ""
        assert transformers_logging.is_progress_bar_enabled()  # the caller's setting is left as it was
    finally:
        transformers_logging.enable_progress_bar()
    assert isinstance(pipeline.model, Mono2StereoModel)


def test_a_pickled_checkpoint_is_refused(tmp_path):
    model = tiny_model()
    model.config.save_pretrained(tmp_path)
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="safetensors"):
        Mono2StereoModel.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "field, value",
    [
        ("hidden_size", 0),
        ("num_attention_heads", 3),
        ("num_decoder_layers", -1),
        ("window_frames", 0),
        ("dropout", 1.0),
        ("context_dropout", -0.1),
        ("styles", []),
        ("styles", ["modern", "modern"]),
        ("width_db_range", [6.0, -40.0]),
        ("codec_bandwidth", 12.0),
        ("hidden_size", "big"),
    ],
)
def test_a_bad_config_value_names_its_field(field, value):
    with pytest.raises(ValueError, match=field):
        tiny_config(**{field: value})


def test_a_stereo_codec_is_refused():
    with pytest.raises(ValueError, match="audio_channels"):
        tiny_config(codec={**tiny_config().codec.to_dict(), "audio_channels": 2})


def test_shipped_model_configs_load_and_match():
    tiny = Mono2StereoConfig.from_json_file(REPO / "configs/model/tiny.json")
    assert tiny.to_dict() == tiny_config().to_dict()
    base = Mono2StereoConfig.from_json_file(REPO / "configs/model/base-encodec32k.json")
    assert (base.sampling_rate, base.num_codebooks, base.codebook_size, base.frame_rate) == (32000, 4, 2048, 50)
    with torch.device("meta"):
        parameters = Mono2StereoModel(base).num_transformer_parameters()
    assert 100e6 <= parameters <= 300e6


def test_push_to_hub_commits_config_weights_and_card():
    model = tiny_model()
    committed = {}

    def fake_commit(self, repo_id, operations, **kwargs):  # reads the files while they exist
        committed["repo_id"] = repo_id
        committed["files"] = {op.path_in_repo: Path(op.path_or_fileobj).read_bytes() for op in operations}

    with (
        mock.patch.object(HfApi, "create_repo") as create_repo,
        mock.patch.object(HfApi, "create_commit", autospec=True, side_effect=fake_commit),
    ):
        model.push_to_hub(
            "someone/mono2stereo-tiny",
            codec="facebook/encodec_32khz",
            training_data="someone/stereo-music",
            metrics={"ild_distance": 1.25},
        )
    create_repo.assert_called_once()
    assert committed["repo_id"] == "someone/mono2stereo-tiny"
    files = committed["files"]
    assert set(files) == {"config.json", "generation_config.json", "model.safetensors", "README.md"}
    assert json.loads(files["generation_config.json"]) == model.generation_settings.to_dict()
    assert json.loads(files["config.json"])["model_type"] == "mono2stereo"
    card = files["README.md"].decode()
    for expected in (
        "library_name: mono2stereo",
        "pipeline_tag: audio-to-audio",
        "license: apache-2.0",
        "facebook/encodec_32khz",
        "someone/stereo-music",
        "ild_distance",
        "## Intended use",
        "## Limitations",
    ):
        assert expected in card
