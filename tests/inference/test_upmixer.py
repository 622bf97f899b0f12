"""One upmixer protocol: the AI pipeline and the DSP upmixers are used alike by the CLI, the Space, `mix` and
`eval`, and the DSP upmixers live in `mono2stereo.dsp`, which inference needs without evaluation."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mono2stereo
from mono2stereo.inference import Mono2StereoPipeline, Upmixer, UpmixOutput, load_pipeline
from mono2stereo.inference.dsp_pipeline import DspPipeline
from mono2stereo.modeling import tiny_model

PACKAGE = Path(mono2stereo.__file__).resolve().parent
RATE = 8000


def noise(samples: int = RATE) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(samples)).astype(np.float32)


class MirrorUpmixer:
    """An upmixer of neither class: everything panned a little to the left."""

    name = "mirror"
    styles = ()
    generative = False

    def check_settings(self, style, width, render, num_variants, batch_size) -> None:
        if style is not None:
            raise ValueError("mirror has no styles")

    def window_frames(self, window_seconds, overlap_seconds):
        return 0, 0

    def __call__(self, audio, sampling_rate, width=1.0, **settings) -> UpmixOutput:
        mono = np.asarray(audio, dtype=np.float32)
        stereo = np.stack([mono * (1 + 0.2 * width), mono * (1 - 0.2 * width)], axis=1)
        return UpmixOutput(stereo, sampling_rate, np.ones(1), side_gain=np.ones(1))

    def upmix_into(self, mono, sampling_rate, sinks, peak=None, **settings) -> UpmixOutput:
        output = self(mono[0 : len(mono)], sampling_rate, **settings)
        sinks[0].write(output.audio)
        output.audio = None
        return output


@pytest.fixture(scope="module")
def model_pipeline():
    return Mono2StereoPipeline(tiny_model())


def test_the_model_pipeline_and_the_dsp_pipeline_are_both_upmixers(model_pipeline):
    dsp = DspPipeline("dsp:allpass")
    assert isinstance(model_pipeline, Upmixer) and isinstance(dsp, Upmixer)
    assert not isinstance(tiny_model(), Upmixer) and not isinstance("dsp:allpass", Upmixer)
    assert (dsp.name, dsp.styles, dsp.generative) == ("dsp:allpass", (), False)
    assert model_pipeline.generative is True and model_pipeline.styles == tuple(model_pipeline.model.config.styles)
    assert model_pipeline.name == "a mono2stereo model"  # built in memory, not loaded from a folder
    assert dsp.window_frames(None, None) == (0, 0)
    window, overlap = model_pipeline.window_frames(None, None)
    assert window == model_pipeline.model.config.window_frames and 1 <= overlap < window
    for upmixer in (model_pipeline, dsp):
        upmixer.check_settings(None, 1.0, "keep-mid", 1, 8)
        with pytest.raises(ValueError, match="width"):
            upmixer.check_settings(None, -1.0, "keep-mid", 1, 8)
        output = upmixer(noise(), RATE, width=1.0)
        assert isinstance(output, UpmixOutput) and output.audio.shape == (RATE, 2)
    with pytest.raises(ValueError, match="no styles"):
        dsp.check_settings("vintage", 1.0, "keep-mid", 1, 8)


def test_a_loaded_model_pipeline_is_named_by_where_it_came_from(tmp_path):
    tiny_model().save_pretrained(tmp_path / "tiny")
    assert Mono2StereoPipeline.from_pretrained(tmp_path / "tiny", device="cpu").name == str(tmp_path / "tiny")


def test_an_unknown_dsp_upmixer_is_refused_when_it_is_named():
    with pytest.raises(ValueError, match="unknown DSP upmixer 'dsp:wide'; choose one of dsp:dual"):
        DspPipeline("dsp:wide")


def test_any_upmixer_goes_through_upmix_and_mix_unchanged():
    mirror = MirrorUpmixer()
    assert load_pipeline(mirror) is mirror
    stereo, rate = mono2stereo.upmix(noise(), RATE, model=mirror)
    assert rate == RATE and np.mean(stereo[:, 0] ** 2) > np.mean(stereo[:, 1] ** 2)
    time = np.arange(RATE) / RATE
    chord = sum(np.sin(2 * np.pi * f * time) for f in (220, 277, 330, 392, 494)).astype(np.float32) / 8
    mixed = mono2stereo.mix({"piano": chord, "bass": 0.5 * noise()}, RATE, seed=0, model=mirror)
    assert mixed.placements[0].upmixer == "mirror"


def test_evaluation_scores_a_model_through_the_protocol(model_pipeline):
    from mono2stereo.evaluation.systems import UpmixerSystem, dsp_system, upmix_seeds

    system = UpmixerSystem(model_pipeline, num_variants=2)
    assert system.seeded and upmix_seeds(system, 3, 2) == [3, 4]
    first, again = system(noise(), RATE, 3), system(noise(), RATE, 3)
    assert first.shape == (2, RATE, 2)
    np.testing.assert_array_equal(first, again)  # the seed is passed on
    fixed = UpmixerSystem(DspPipeline("dsp:dual"))
    assert not fixed.seeded and upmix_seeds(fixed, 3, 2) == [3]
    assert fixed(noise(), RATE, 3).shape == (1, RATE, 2)
    raw = dsp_system("dsp:allpass")
    assert not raw.seeded and raw(noise(), RATE, None).shape == (1, RATE, 2)


def test_the_documented_import_of_upmix_dsp_still_works():
    from mono2stereo.dsp import upmix_dsp
    from mono2stereo.evaluation.baselines import upmix_dsp as documented

    assert documented is upmix_dsp


def test_inference_imports_nothing_from_evaluation():
    modules = sorted(path.stem for path in (PACKAGE / "inference").glob("*.py") if path.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('mono2stereo.inference.' + name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('mono2stereo.evaluation')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_dsp_prefix_is_written_once():
    places = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == "dsp:":
                places.append(str(path.relative_to(PACKAGE)))
    assert places == ["dsp/__init__.py"]
