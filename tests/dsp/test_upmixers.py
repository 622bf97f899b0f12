"""DSP upmixers: the registry contract, fold-down preservation, width, peaks, and source placement."""

import numpy as np
import pytest
from scipy import signal

from mono2stereo.dsp import DSP_NAMES, DSP_UPMIXERS, upmix_dsp
from mono2stereo.evaluation.metrics import spatial_cues, stereo_width_db

SAMPLING_RATE = 22050
FOLD_DOWN_KEEPERS = ("dual", "lauridsen", "allpass", "orban", "sources")


def harmonic_tone(f0: float, amplitude: float, seconds: float = 2.0, harmonics: int = 8) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    partials = [amplitude / h * np.sin(2 * np.pi * f0 * h * t + h) for h in range(1, harmonics + 1)]
    return np.sum(partials, axis=0).astype(np.float32)


def music_like(seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    clicks = np.zeros(int(seconds * SAMPLING_RATE), dtype=np.float32)
    clicks[:: SAMPLING_RATE // 4] = 1.0
    drums = signal.lfilter([1.0], [1.0, -0.995], clicks * rng.standard_normal(len(clicks))).astype(np.float32)
    return harmonic_tone(110, 0.08, seconds) + harmonic_tone(440, 0.05, seconds) + 0.02 * drums


def test_registry_has_the_five_upmixers():
    assert set(DSP_UPMIXERS) == {"dual", "lauridsen", "allpass", "orban", "sources"}
    assert tuple(DSP_UPMIXERS) == DSP_NAMES  # the names the CLI checks without importing the upmixers


@pytest.mark.parametrize("name", list(DSP_UPMIXERS))
def test_upmix_returns_float32_stereo_of_the_same_length(name):
    mono = music_like()
    stereo = upmix_dsp(f"dsp:{name}", mono, SAMPLING_RATE)
    assert stereo.shape == (len(mono), 2)
    assert stereo.dtype == np.float32
    assert np.all(np.isfinite(stereo))


@pytest.mark.parametrize("name", FOLD_DOWN_KEEPERS)
def test_fold_down_equals_the_input(name):
    mono = music_like()
    stereo = upmix_dsp(name, mono, SAMPLING_RATE)
    np.testing.assert_allclose(0.5 * (stereo[:, 0] + stereo[:, 1]), mono, atol=1e-6)
    assert stereo_width_db(stereo) > -40.0 or name == "dual"


def test_dual_mono_has_coherence_one_and_no_level_difference():
    cues = spatial_cues(upmix_dsp("dsp:dual", music_like(), SAMPLING_RATE), SAMPLING_RATE)
    assert np.all(cues.level_difference_db == 0.0)
    np.testing.assert_allclose(cues.coherence[cues.active], 1.0, atol=1e-5)


@pytest.mark.parametrize("name", ["lauridsen", "allpass", "orban", "sources"])
def test_width_scales_the_side(name):
    mono = music_like()
    full = upmix_dsp(name, mono, SAMPLING_RATE, width=1.0)
    half = upmix_dsp(name, mono, SAMPLING_RATE, width=0.5)
    none = upmix_dsp(name, mono, SAMPLING_RATE, width=0.0)
    np.testing.assert_allclose(half[:, 0] - half[:, 1], 0.5 * (full[:, 0] - full[:, 1]), atol=1e-6)
    np.testing.assert_allclose(none[:, 0], none[:, 1])


def test_stereo_input_is_folded_to_mono_first():
    mono = music_like()
    stereo_in = np.stack([mono + 0.01, mono - 0.01], axis=1)
    np.testing.assert_allclose(
        upmix_dsp("allpass", stereo_in, SAMPLING_RATE), upmix_dsp("allpass", mono, SAMPLING_RATE), atol=1e-6
    )


def test_loud_input_keeps_its_mid_side_balance_unlimited():
    # the upmixer itself does not limit: peak safety, and its report, are the pipeline's
    # (tests/inference/test_limiting.py)
    loud = music_like()
    loud *= 1.0 / np.max(np.abs(loud))
    quiet = upmix_dsp("lauridsen", 0.1 * loud, SAMPLING_RATE)
    stereo = upmix_dsp("lauridsen", loud, SAMPLING_RATE)
    np.testing.assert_allclose(stereo.mean(1), loud, atol=1e-6)
    assert stereo_width_db(stereo) == pytest.approx(stereo_width_db(quiet), abs=1e-3)


def test_unknown_upmixer_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"'dsp:wide'.*dsp:dual.*dsp:sources"):
        upmix_dsp("dsp:wide", music_like(), SAMPLING_RATE)


def test_bad_shapes_and_widths_are_refused():
    with pytest.raises(ValueError, match="shaped"):
        upmix_dsp("dual", np.zeros((10, 6), dtype=np.float32), SAMPLING_RATE)
    with pytest.raises(ValueError, match="negative"):
        upmix_dsp("dual", music_like(), SAMPLING_RATE, width=-1.0)


def level_difference_at_partials(stereo: np.ndarray, f0: float, other_f0: float) -> float:
    """Left-over-right level in dB at the partials of `f0` that lie clear of the other tone's partials."""
    frequencies, _, spectrum = signal.stft(stereo.T, fs=SAMPLING_RATE, nperseg=2048)
    power = np.abs(spectrum) ** 2
    clear = np.all([np.abs(frequencies - k * other_f0) > 40 for k in range(1, 9)], axis=0)
    near = np.any([np.abs(frequencies - h * f0) < 15 for h in range(1, 9)], axis=0)
    selected = near & clear
    return float(10 * np.log10(power[0][selected].sum() / power[1][selected].sum()))


def test_sources_places_two_tones_of_different_pitch_at_different_positions():
    mono = harmonic_tone(220, 0.12, seconds=3.0) + harmonic_tone(370, 0.08, seconds=3.0)
    stereo = upmix_dsp("dsp:sources", mono, SAMPLING_RATE)
    lower = level_difference_at_partials(stereo, 220, 370)
    upper = level_difference_at_partials(stereo, 370, 220)
    assert abs(lower - upper) > 4.0, (lower, upper)
