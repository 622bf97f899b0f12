"""Peak safety: the side is turned down around peaks, smoothly; the mid stays the input at its level."""

import numpy as np
import pytest

from mono2stereo.inference import Mono2StereoPipeline, upmix
from mono2stereo.inference.limiting import PEAK_CEILING, side_gain
from mono2stereo.inference.rendering import lean_from_sums, render, render_keep_mid, side_lean
from mono2stereo.modeling import tiny_model

RATE = 16000


def loud_master(peak=0.93, seconds=1.0, seed=0):
    """Plucked tones normalised to `peak`, as a modern master is."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * RATE)) / RATE
    audio = np.zeros_like(time)
    for onset in np.arange(0, seconds, 0.125):
        tone = np.sin(2 * np.pi * rng.choice([110, 220, 330, 440]) * time)
        audio += np.where(time >= onset, tone * np.exp(-(time - onset) * 8), 0.0)
    return (peak * audio / np.abs(audio).max()).astype(np.float32)


def test_a_loud_master_keeps_its_level_and_its_mid():
    mono = loud_master()
    generated = np.random.default_rng(1).standard_normal((mono.shape[0], 2)).astype(np.float32) * 0.05
    stereo, gain = render("keep-mid", mono, generated, RATE)
    assert gain == 1.0  # no global gain: the input does not clip
    np.testing.assert_allclose(stereo.mean(1), mono, atol=1e-6)  # the mid is the input, at its level
    assert np.abs(stereo).max() <= PEAK_CEILING
    unlimited = render_keep_mid(mono, generated, RATE, lean=lean_from_sums(*side_lean(generated, RATE)))
    side, unlimited_side = (stereo[:, 0] - stereo[:, 1]) / 2, (unlimited[:, 0] - unlimited[:, 1]) / 2
    assert np.abs(unlimited).max() > 1.0  # there was something to limit
    untouched = np.isclose(side, unlimited_side, atol=1e-6)
    assert 0.3 < untouched.mean() < 1.0  # only around the peaks is the side turned down


def test_the_side_gain_is_smooth_and_never_lets_a_sample_pass():
    mid = 0.5 * loud_master(0.9)
    side = np.zeros_like(mid)
    mid[8000], side[8000] = 0.8, 0.5  # one click-like peak in the side, where the mid is loud
    gain = side_gain(mid, side, RATE)
    assert np.all(np.abs(mid) + gain * np.abs(side) <= PEAK_CEILING + 1e-6)
    assert gain[8000] < 1.0 and gain[0] == 1.0 and gain[-1] == 1.0
    # it ramps over the look-ahead (5 ms = 80 samples each way), not in one step
    assert np.abs(np.diff(gain)).max() < (1.0 - gain.min()) / 40


def test_each_variant_reports_its_own_side_gain():
    pipeline = Mono2StereoPipeline(tiny_model(initializer_range=0.5))
    output = pipeline(loud_master(0.95, 0.5), RATE, seed=0, num_variants=3, width=4.0)
    assert output.peak_gain.tolist() == [1.0, 1.0, 1.0]
    assert output.side_gain.shape == (3,) and output.side_gain.max() < 1.0
    assert len(set(output.side_gain.round(6).tolist())) > 1  # each its own, not the smallest for all
    np.testing.assert_allclose(output.audio.mean(2), np.broadcast_to(loud_master(0.95, 0.5), (3, 8000)), atol=1e-6)


def test_a_dsp_upmix_reports_the_limit_it_applies():
    pytest.importorskip("mono2stereo.dsp.upmixers")
    time = np.arange(RATE) / RATE
    sine = (0.98 * np.sin(2 * np.pi * 220 * time)).astype(np.float32)
    from mono2stereo.inference.pipeline import load_pipeline

    output = load_pipeline("dsp:lauridsen")(sine, RATE, width=2.0)
    assert np.abs(output.audio).max() <= PEAK_CEILING
    np.testing.assert_allclose(output.audio.mean(1), sine, atol=1e-6)  # the fold-down is still the input
    assert output.peak_gain[0] == 1.0 and output.side_gain[0] < 1.0  # the limit is reported as it is applied
    stereo, _ = upmix(sine, RATE, model="dsp:lauridsen", width=2.0)
    np.testing.assert_array_equal(stereo, output.audio)


def test_the_command_reports_each_variants_own_gain():
    from mono2stereo.inference.cli import gain_notices
    from mono2stereo.inference.output import UpmixOutput

    output = UpmixOutput(None, RATE, np.array([1.0, 1.0, 1.0]), side_gain=np.array([0.5, 1.0, 0.8]))
    notices = gain_notices(output)
    assert len(notices) == 2 and notices[0].startswith("v1: ") and "0.50" in notices[0]
    assert notices[1].startswith("v3: ") and "0.80" in notices[1]
    clipping = UpmixOutput(None, RATE, np.array([0.9]), side_gain=np.array([1.0]))
    assert gain_notices(clipping) == ["the input peaks above full scale; scaled by 0.900"]


def test_a_dsp_upmix_applies_exactly_the_gains_it_reports():
    from mono2stereo.audio import mid_side
    from mono2stereo.dsp import upmix_dsp
    from mono2stereo.inference.pipeline import load_pipeline

    mono = loud_master(1.25)  # the input itself passes full scale: one gain on the whole output
    output = load_pipeline("dsp:allpass")(mono, RATE, width=2.0)
    gain, least = float(output.peak_gain[0]), float(output.side_gain[0])
    assert gain == pytest.approx(PEAK_CEILING / 1.25) and least < 1.0
    mid, side = mid_side(output.audio.astype(np.float64))
    np.testing.assert_allclose(mid, gain * mono, atol=1e-6)  # the reported gain is the one the mid got
    _, unlimited_side = mid_side(upmix_dsp("dsp:allpass", mono, RATE, width=2.0).astype(np.float64))
    loud = np.abs(unlimited_side) > 0.05
    applied = side[loud] / (gain * unlimited_side[loud])  # the side gain each sample got
    assert applied.min() == pytest.approx(least, abs=2e-3) and applied.max() == pytest.approx(1.0, abs=1e-5)
    assert np.abs(output.audio).max() <= PEAK_CEILING
