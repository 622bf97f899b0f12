import numpy as np
import soundfile as sf
from huggingface_hub import ModelCard

from mono2stereo.cli import main
from mono2stereo.inference.default_model import SHIPPED_MODEL_DIR
from mono2stereo.modeling import Mono2StereoModel

REPO = SHIPPED_MODEL_DIR.parents[1]


def test_the_shipped_default_model_is_small_loads_and_has_its_card():
    weights = SHIPPED_MODEL_DIR / "model.safetensors"
    assert weights.stat().st_size <= 60 * 1024 * 1024
    model = Mono2StereoModel.from_pretrained(SHIPPED_MODEL_DIR)
    assert set(model.config.styles) >= {"modern", "vintage", "wide", "narrow"}
    card = ModelCard.load(SHIPPED_MODEL_DIR / "README.md")
    assert card.data.library_name == "mono2stereo" and card.data.pipeline_tag == "audio-to-audio"
    assert "configs/train/spatial-corpus-mt-cd.yaml" in card.text and "ild_distance_db" in card.text
    assert model.config.is_spatial and "| metric | this model | dsp:allpass | dsp:dual |" in card.text


def test_the_readme_main_command_upmixes_the_example_with_the_default_model(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("MONO2STEREO_DEFAULT_MODEL", raising=False)
    example = REPO / "examples" / "mono.wav"
    assert main(["upmix", str(example), "-o", str(tmp_path / "stereo.wav"), "--seed", "0"]) == 0
    stereo, rate = sf.read(tmp_path / "stereo.wav", dtype="float64")
    mono, input_rate = sf.read(example, dtype="float64")
    assert rate == input_rate and stereo.shape == (len(mono), 2)
    # the fold-down is the input (24-bit output), and the model added a side
    assert np.abs(stereo.mean(axis=1) - mono).max() < 1e-5
    assert np.abs(stereo[:, 0] - stereo[:, 1]).max() > 1e-3
