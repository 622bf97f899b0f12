"""Spatial metrics: zero for identical signals, known values on constructed ones."""

import dataclasses

import numpy as np
import pytest
from scipy import signal

from mono2stereo.evaluation.metrics import (
    LOWER_IS_BETTER,
    WIDTH_FLOOR_DB,
    best_of_variants,
    cue_distribution_distances,
    cue_errors,
    evaluate_upmix,
    ild_change_db,
    log_spectral_distance_db,
    scale_invariant_sdr_db,
    spatial_cues,
    stereo_width_db,
)

SAMPLING_RATE = 16000


def noise(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * SAMPLING_RATE)).astype(np.float32) * 0.1


def weighted_mean(values: np.ndarray, cues) -> float:
    weights = np.where(cues.active, cues.energy, 0.0)
    return float((weights * values).sum() / weights.sum())


def test_metrics_are_zero_for_identical_signals():
    stereo = np.stack([noise(seed=1), 0.5 * noise(seed=1) + noise(seed=2)], axis=1)
    mono = 0.5 * (stereo[:, 0] + stereo[:, 1])
    scores = evaluate_upmix(stereo, stereo, mono, SAMPLING_RATE)
    for name in LOWER_IS_BETTER:
        assert scores[name] == pytest.approx(0.0, abs=1e-9), name
    assert scores["folddown_si_sdr_db"] >= 90.0


@pytest.mark.parametrize("level_difference_db", [-12.0, 3.0, 9.0])
def test_panned_source_has_its_level_difference(level_difference_db):
    source = noise()
    gain = 10.0 ** (level_difference_db / 20.0)
    cues = spatial_cues(np.stack([gain * source, source], axis=1), SAMPLING_RATE)
    active = cues.level_difference_db[cues.active]
    np.testing.assert_allclose(active, level_difference_db, atol=1e-3)
    assert np.all(cues.coherence[cues.active] > 0.999)


@pytest.mark.parametrize("coherence", [0.2, 0.5, 0.8])
def test_mix_of_shared_and_independent_noise_has_its_coherence(coherence):
    # L = a*s + b*n1, R = a*s + b*n2 with unit-power noises has coherence a^2 / (a^2 + b^2).
    shared, left_only, right_only = noise(4.0, 1), noise(4.0, 2), noise(4.0, 3)
    a, b = np.sqrt(coherence), np.sqrt(1.0 - coherence)
    stereo = np.stack([a * shared + b * left_only, a * shared + b * right_only], axis=1)
    cues = spatial_cues(stereo, SAMPLING_RATE)
    upper_bands = cues.bands.centres_hz > 500.0  # enough bins per tile for an unbiased estimate
    measured = cues.coherence[upper_bands][cues.active[upper_bands]]
    assert np.median(measured) == pytest.approx(coherence, abs=0.06)


def test_cue_errors_of_a_known_pan_offset():
    source = noise()
    centred = spatial_cues(np.stack([source, source], axis=1), SAMPLING_RATE)
    panned = spatial_cues(np.stack([2.0 * source, source], axis=1), SAMPLING_RATE)
    errors = cue_errors(panned, centred)
    assert errors["ild_error_db"] == pytest.approx(20 * np.log10(2.0), abs=1e-3)
    assert errors["coherence_error"] == pytest.approx(0.0, abs=1e-4)
    assert errors["ipd_error_rad"] == pytest.approx(0.0, abs=1e-4)
    distances = cue_distribution_distances(panned, centred)
    assert distances["ild_distance_db"] == pytest.approx(20 * np.log10(2.0), abs=1e-3)


def swapped_sources_and_cues():
    low = signal.sosfilt(signal.butter(6, 800, fs=SAMPLING_RATE, output="sos"), noise(seed=4)).astype(np.float32)
    high = signal.sosfilt(signal.butter(6, 2000, "highpass", fs=SAMPLING_RATE, output="sos"), noise(seed=5))
    reference = np.stack([low + 0.3 * high, 0.3 * low + high], axis=1)
    return spatial_cues(reference, SAMPLING_RATE), spatial_cues(reference[:, ::-1].copy(), SAMPLING_RATE)


def test_distribution_distance_forgives_a_mirrored_placement_that_errors_do_not():
    reference_cues, mirrored_cues = swapped_sources_and_cues()
    assert cue_errors(mirrored_cues, reference_cues)["ild_error_db"] > 15.0
    assert cue_distribution_distances(mirrored_cues, reference_cues)["ild_distance_db"] < 0.01


def test_distribution_distance_forgives_cues_at_other_moments():
    reference_cues, _ = swapped_sources_and_cues()
    order = np.random.default_rng(0).permutation(reference_cues.energy.shape[1])
    shuffled = dataclasses.replace(
        reference_cues,
        level_difference_db=reference_cues.level_difference_db[:, order],
        coherence=reference_cues.coherence[:, order],
        phase_difference_rad=reference_cues.phase_difference_rad[:, order],
        energy=reference_cues.energy[:, order],
        active=reference_cues.active[:, order],
    )
    distances = cue_distribution_distances(shuffled, reference_cues)
    assert distances["ild_distance_db"] == pytest.approx(0.0, abs=1e-9)
    assert distances["coherence_distance"] == pytest.approx(0.0, abs=1e-9)


def test_ild_change_tells_a_source_held_on_one_side_from_one_that_jumps_between_sides():
    source = noise(4.0)
    held = spatial_cues(np.stack([2.0 * source, source], axis=1), SAMPLING_RATE)
    assert ild_change_db(held) == pytest.approx(0.0, abs=1e-3)
    # the same |ILD| of 6 dB at every moment, on the left and the right in turn every 0.5 s
    side = np.where((np.arange(len(source)) // (SAMPLING_RATE // 2)) % 2 == 0, 1.0, 0.0)
    gains = np.stack([1.0 + side, 2.0 - side], axis=1)  # (2, 1) then (1, 2)
    jumping = spatial_cues(source[:, None] * gains, SAMPLING_RATE)
    # the distances see only the tiles that straddle a jump; the change sees every jump
    assert cue_distribution_distances(jumping, held)["ild_distance_db"] < 1.0
    steps = jumping.energy.shape[1] - 1
    assert ild_change_db(jumping) == pytest.approx(7 * 12.0 / steps, rel=0.2)  # 7 jumps of 12 dB in 4 s
    scores = evaluate_upmix(source[:, None] * gains, np.stack([2.0 * source, source], axis=1), source, SAMPLING_RATE)
    assert scores["ild_change_error_db"] == pytest.approx(scores["ild_change_db"], abs=1e-3)


def test_width_of_known_side_level():
    mid, side = noise(seed=6), noise(seed=7)
    stereo = np.stack([mid + 0.5 * side, mid - 0.5 * side], axis=1)
    assert stereo_width_db(stereo) == pytest.approx(20 * np.log10(0.5), abs=0.2)
    assert stereo_width_db(np.stack([mid, mid], axis=1)) == WIDTH_FLOOR_DB


def test_fold_down_fidelity_of_known_distortion():
    target = noise(seed=8)
    assert scale_invariant_sdr_db(3.0 * target, target) >= 90.0
    distorted = target + 0.1 * noise(seed=9)
    assert scale_invariant_sdr_db(distorted, target) == pytest.approx(20.0, abs=0.3)
    assert log_spectral_distance_db(2.0 * target, target, SAMPLING_RATE) == pytest.approx(20 * np.log10(2.0), abs=0.01)


def test_best_of_variants_takes_the_best_of_each_metric():
    scores = [
        {"ild_error_db": 3.0, "folddown_si_sdr_db": 10.0, "width_db": -5.0, "width_error_db": 2.0},
        {"ild_error_db": 1.0, "folddown_si_sdr_db": 5.0, "width_db": -9.0, "width_error_db": 1.0},
    ]
    scores[0].update(ild_change_db=0.5, ild_change_error_db=0.1)
    scores[1].update(ild_change_db=2.5, ild_change_error_db=2.1)
    assert best_of_variants(scores) == {
        "ild_error_db": 1.0,
        "folddown_si_sdr_db": 10.0,
        "width_db": -9.0,
        "width_error_db": 1.0,
        "ild_change_db": 0.5,
        "ild_change_error_db": 0.1,
    }
    with pytest.raises(ValueError, match="at least one"):
        best_of_variants([])


def test_evaluation_width_is_the_models_width_control():
    import torch

    from mono2stereo.modeling import stereo_width_db as model_width_db

    stereo = np.stack([noise(seed=3), 0.3 * noise(seed=3) + 0.2 * noise(seed=4)], axis=1)
    expected = float(model_width_db(torch.from_numpy(stereo.T.copy()).double()))
    assert stereo_width_db(stereo) == pytest.approx(expected, abs=1e-3)  # the model adds a 1e-8 regulariser


def test_si_sdr_of_a_silent_estimate_is_the_floor_not_the_ceiling():
    from mono2stereo.evaluation.metrics import SI_SDR_FLOOR_DB

    target = noise(seed=5)
    assert scale_invariant_sdr_db(np.zeros_like(target), target) == SI_SDR_FLOOR_DB
    assert scale_invariant_sdr_db(target, target) >= 90.0
