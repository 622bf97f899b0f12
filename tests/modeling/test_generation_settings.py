"""Sampling defaults saved with a model (`generation_config.json`), read by generate, pipeline, CLI, Space, release."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from mono2stereo.cli import main
from mono2stereo.inference import Mono2StereoPipeline
from mono2stereo.inference.default_model import SHIPPED_MODEL_DIR
from mono2stereo.modeling import Mono2StereoModel, tiny_model
from mono2stereo.modeling.generation_settings import GENERATION_CONFIG_NAME, GenerationSettings
from tests import REPO

TUNED = GenerationSettings(temperature=0.6, top_k=3, top_p=0.8, guidance_scale=2.5)
GREEDY = GenerationSettings(temperature=0.0)


def saved(folder, settings: GenerationSettings | None = None, seed: int = 0):
    """A tiny model saved in `folder` with `settings` (None: the model's own), and the model."""
    # no mirror drawn per seed (config.random_mirror), so greedy decoding gives every seed the same output
    model = tiny_model(seed=seed, initializer_range=0.5, random_mirror=False)
    if settings is not None:
        model.generation_settings = settings
    model.save_pretrained(folder)
    return model


def mono_codes(model, batch=2, frames=10):
    generator = torch.Generator().manual_seed(0)
    shape = (batch, model.config.num_codebooks, frames)
    return torch.randint(0, model.config.codebook_size, shape, generator=generator)


def test_the_settings_are_saved_with_the_model_and_read_back(tmp_path):
    saved(tmp_path / "model", TUNED)
    assert json.loads((tmp_path / "model" / GENERATION_CONFIG_NAME).read_text()) == TUNED.to_dict()
    assert Mono2StereoModel.from_pretrained(tmp_path / "model").generation_settings == TUNED
    from transformers import AutoModel

    assert AutoModel.from_pretrained(tmp_path / "model").generation_settings == TUNED


def test_a_folder_without_the_file_samples_as_a_new_model_does(tmp_path):
    model = saved(tmp_path / "model", TUNED)
    (tmp_path / "model" / GENERATION_CONFIG_NAME).unlink()
    loaded = Mono2StereoModel.from_pretrained(tmp_path / "model")
    assert loaded.generation_settings == GenerationSettings() == tiny_model().generation_settings
    model.generation_settings = GenerationSettings()
    mono = mono_codes(loaded)
    assert torch.equal(loaded.generate(mono, seed=4), model.generate(mono, seed=4))


def test_generate_samples_with_the_saved_settings_and_explicit_arguments_win(tmp_path):
    saved(tmp_path / "model", TUNED)
    tuned = Mono2StereoModel.from_pretrained(tmp_path / "model")
    plain = tiny_model(seed=0, initializer_range=0.5)  # the same weights, the default settings
    mono = mono_codes(plain)
    explicit = plain.generate(mono, seed=5, style="wide", **TUNED.sampling())
    assert torch.equal(tuned.generate(mono, seed=5, style="wide"), explicit)
    assert not torch.equal(plain.generate(mono, seed=5, style="wide"), explicit)
    defaults = GenerationSettings().sampling()
    assert torch.equal(tuned.generate(mono, seed=5, **defaults), plain.generate(mono, seed=5))
    # one setting given, the others still from the file
    mixed = plain.generate(mono, seed=5, **{**TUNED.sampling(), "top_k": 2})
    assert torch.equal(tuned.generate(mono, seed=5, top_k=2), mixed)


def test_the_pipeline_reads_the_settings_and_a_call_overrides_them(tmp_path):
    saved(tmp_path / "model", GREEDY)
    pipeline = Mono2StereoPipeline.from_pretrained(tmp_path / "model", device="cpu")
    audio = (np.random.default_rng(0).standard_normal(1600) * 0.1).astype(np.float32)
    first = pipeline(audio, 8000, seed=1, window_seconds=0.04).audio
    np.testing.assert_array_equal(first, pipeline(audio, 8000, seed=2, window_seconds=0.04).audio)  # greedy
    sampled = [pipeline(audio, 8000, seed=s, window_seconds=0.04, temperature=1.0).audio for s in (1, 2)]
    assert not np.array_equal(*sampled)


def test_the_cli_reads_the_settings_and_its_flags_override_them(tmp_path, capsys):
    saved(tmp_path / "model", GREEDY)
    sf.write(tmp_path / "in.wav", (np.random.default_rng(0).standard_normal(1600) * 0.1).astype(np.float32), 8000)

    def upmix(name, *options):
        argv = ["upmix", tmp_path / "in.wav", "-o", tmp_path / name, "--model", tmp_path / "model", "--window", "0.04"]
        assert main([str(arg) for arg in [*argv, *options]]) == 0
        return sf.read(tmp_path / name, dtype="float32")[0]

    np.testing.assert_array_equal(upmix("a.wav", "--seed", "1"), upmix("b.wav", "--seed", "2"))
    hot = [upmix(f"hot{s}.wav", "--seed", s, "--temperature", "1") for s in ("1", "2")]
    assert not np.array_equal(*hot)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "model")]) == 0
    assert "generation: temperature 0, top_k 250, top_p 0, guidance_scale 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"temperature": 0.5, "top_q": 3}', "unknown setting top_q; the settings are temperature, top_k"),
        ('{"temperature": -1}', "temperature=-1"),
        ('{"top_k": 2.5}', "top_k=2.5"),
        ('{"temperature": ', "is not valid JSON"),
        ("[0.5]", "must be a JSON object"),
    ],
)
def test_a_bad_file_is_named_with_what_is_wrong(tmp_path, content, message):
    saved(tmp_path / "model")
    (tmp_path / "model" / GENERATION_CONFIG_NAME).write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        Mono2StereoModel.from_pretrained(tmp_path / "model")
    assert GENERATION_CONFIG_NAME in str(error.value)


def test_the_shipped_default_model_ships_the_decoding_it_was_chosen_with():
    # the spatial model was selected with mean decoding (benchmarks/RESULTS.md, "Context dropout")
    path = SHIPPED_MODEL_DIR / GENERATION_CONFIG_NAME
    assert path.is_file() and GenerationSettings.from_json_file(path) == GenerationSettings(decoding="mean")


def test_a_release_ships_the_settings_of_its_facts(tmp_path):
    from mono2stereo.training.release import load_facts
    from mono2stereo.training.release import main as release

    facts = tmp_path / "facts.yaml"
    facts.write_text(
        "codec: tiny\nrecipe: train it\ntraining_data: noise\nevaluation: none\nlimitations: [tiny]\n"
        "generation: {temperature: 0.8, guidance_scale: 3.0}\n"
    )
    saved(tmp_path / "run", TUNED)
    assert release([str(tmp_path / "run"), str(tmp_path / "out"), "--facts", str(facts)]) == 0
    shipped = Mono2StereoModel.from_pretrained(tmp_path / "out").generation_settings
    assert shipped == GenerationSettings(temperature=0.8, guidance_scale=3.0)
    facts.write_text(facts.read_text().replace("guidance_scale: 3.0", "guidance_scale: 99"))
    with pytest.raises(ValueError, match=r"facts\.yaml: generation: guidance_scale=99"):
        load_facts(facts)


def test_a_release_without_settings_in_its_facts_keeps_the_runs(tmp_path):
    from mono2stereo.training.release import main as release

    facts = tmp_path / "facts.yaml"
    facts.write_text("codec: tiny\nrecipe: train it\ntraining_data: noise\nevaluation: none\nlimitations: [tiny]\n")
    saved(tmp_path / "run", TUNED)
    assert release([str(tmp_path / "run"), str(tmp_path / "out"), "--facts", str(facts)]) == 0
    assert Mono2StereoModel.from_pretrained(tmp_path / "out").generation_settings == TUNED


def test_the_space_samples_with_the_models_settings(tmp_path):
    pytest.importorskip("gradio")
    import importlib.util

    spec = importlib.util.spec_from_file_location("space_app", REPO / "space" / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    sf.write(tmp_path / "in.wav", (np.random.default_rng(0).standard_normal(1600) * 0.1).astype(np.float32), 8000)

    def stereo_by_seed(settings: GenerationSettings) -> list[np.ndarray]:
        saved(tmp_path / f"model-{settings.temperature:g}", settings)
        demo = app.build_demo(str(tmp_path / f"model-{settings.temperature:g}"))
        upmix = next(function.fn for function in demo.fns.values() if function.api_name == "upmix")
        return [upmix(str(tmp_path / "in.wav"), seed=seed)[0][1] for seed in (1, 2)]

    np.testing.assert_array_equal(*stereo_by_seed(GREEDY))
    assert not np.array_equal(*stereo_by_seed(GenerationSettings()))


def test_a_release_ships_its_decoding_and_width_and_a_call_overrides_them(tmp_path):
    from mono2stereo.evaluation.systems import model_system

    model = tiny_model(spatial=True, initializer_range=0.5)  # weights large enough for the width to matter
    model.generation_settings = GenerationSettings(decoding="mean", target_width_db=-12.0)
    model.save_pretrained(tmp_path / "model")
    pipeline = Mono2StereoPipeline.from_pretrained(tmp_path / "model", device="cpu")
    rate = 16000
    mono = (np.random.default_rng(0).standard_normal(rate) * 0.1).astype(np.float32)
    shipped = pipeline(mono, rate, seed=0).audio
    plain = Mono2StereoPipeline(tiny_model(spatial=True, initializer_range=0.5))  # the same weights, default settings
    assert np.array_equal(shipped, plain(mono, rate, seed=1, decoding="mean", target_width_db=-12.0).audio)
    assert not np.array_equal(shipped, pipeline(mono, rate, seed=0, decoding="sample").audio)
    assert not np.array_equal(shipped, pipeline(mono, rate, seed=0, target_width_db=0.0).audio)
    assert np.array_equal(
        pipeline(mono, rate, target_width_db=0.0).audio, plain(mono, rate, decoding="mean", target_width_db=0.0).audio
    )
    evaluated = model_system(str(tmp_path / "model"))(mono, rate, 0)  # `eval` decodes it the same way
    assert np.array_equal(evaluated[0], shipped)


@pytest.mark.parametrize(
    "values, named", [({"decoding": "average"}, "decoding"), ({"target_width_db": float("nan")}, "target_width_db")]
)
def test_bad_decoding_settings_are_refused_by_name(values, named):
    with pytest.raises(ValueError, match=named):
        GenerationSettings.from_dict(values)


def test_an_encodec_model_cannot_ship_mean_decoding(tmp_path):
    model = tiny_model()
    model.generation_settings = GenerationSettings(decoding="mean")
    with pytest.raises(ValueError, match="decoding"):
        Mono2StereoPipeline(model)(np.zeros(800, np.float32) + 0.1, 8000)
