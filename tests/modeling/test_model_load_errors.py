"""Bad model folders and configs fail with one line naming the file or the field, before anything is allocated."""

import json
import os
import shutil

import pytest

from mono2stereo.inference.pipeline import load_model
from mono2stereo.modeling import tiny_config, tiny_model


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "tiny"
    tiny_model().save_pretrained(folder)
    return folder


def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


def randomise(path):
    with open(path, "wb") as file:
        file.write(os.urandom(5000))


def set_codec(key, value):
    return lambda config: config["codec"].__setitem__(key, value)


def set_field(key, value):
    return lambda config: config.__setitem__(key, value)


# case: (how the folder is damaged, what the one-line error must name)
CASES = {
    "truncated weights": ({"weights": truncate}, "model.safetensors is damaged or incomplete"),
    "random weights": ({"weights": randomise}, "model.safetensors is damaged or incomplete"),
    "hidden_size 1e9": ({"config": set_field("hidden_size", 1e9)}, "hidden_size=1000000000.0"),
    "hidden_size 2**20": ({"config": set_field("hidden_size", 2**20)}, "hidden_size=1048576 is invalid: must be at"),
    "codec rate 0": ({"config": set_codec("sampling_rate", 0)}, "codec.sampling_rate=0"),
    "codec rate negative": ({"config": set_codec("sampling_rate", -8000)}, "codec.sampling_rate=-8000"),
    "no upsampling ratios": ({"config": set_codec("upsampling_ratios", [])}, "codec.upsampling_ratios=[]"),
    "config is a list": ({"raw": "[1, 2]"}, "config.json must hold a JSON object"),
    "config is not JSON": ({"raw": "{hidden_size: 3"}, "config.json is not valid JSON"),
    "styles a string": ({"config": set_field("styles", "modern")}, "styles='modern' is invalid"),
    "width range of strings": ({"config": set_field("width_db_range", ["a", "b"])}, "width_db_range=['a', 'b']"),
    "a million layers": ({"config": set_field("num_decoder_layers", 1000000)}, "num_decoder_layers=1000000"),
    "window 1e12": ({"config": set_field("window_frames", 1e12)}, "window_frames=1000000000000.0"),
    "window 10**12": ({"config": set_field("window_frames", 10**12)}, "window_frames=1000000000000 is invalid"),
    "shapes edited": ({"config": set_field("hidden_size", 32)}, "do not fit config.json"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_model_folder_fails_with_one_line(saved_model, tmp_path, case):
    damage, expected = CASES[case]
    folder = tmp_path / "model"
    shutil.copytree(saved_model, folder)
    if "weights" in damage:
        damage["weights"](folder / "model.safetensors")
    if "config" in damage:
        config = json.loads((folder / "config.json").read_text())
        damage["config"](config)
        (folder / "config.json").write_text(json.dumps(config))
    if "raw" in damage:
        (folder / "config.json").write_text(damage["raw"])
    with pytest.raises(ValueError) as error:
        load_model(folder, "cpu")
    message = str(error.value)
    assert expected in message and "\n" not in message


def test_the_parameter_estimate_refuses_a_huge_model_before_allocating():
    config = tiny_config(num_encoder_layers=2, num_decoder_layers=2)
    assert (
        abs(config.estimated_parameters() - tiny_model().num_transformer_parameters())
        < 0.1 * config.estimated_parameters()
    )
    with pytest.raises(ValueError, match="about .* parameters"):
        tiny_config(hidden_size=16_384, intermediate_size=65_536, num_attention_heads=128, num_decoder_layers=256)
