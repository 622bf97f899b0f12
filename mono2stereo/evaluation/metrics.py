"""Spatial metrics of a stereo upmix against a reference stereo, and fidelity of its fold-down to the mono input.

Cues are measured on tiles: one ERB band by `FRAMES_PER_TILE` STFT frames (about 93 ms at 44.1 kHz).
Units: level differences and their change from tile to tile in dB (left over right), coherence from 0 to 1,
phase differences in radians, width as the side-to-mid energy ratio in dB, SI-SDR and log-spectral distance in dB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import wasserstein_distance

from ..audio import fold, width_db
from ..dsp.bands import ErbBands, erb_bands, frame_length_for, short_time_spectrum

FRAMES_PER_TILE = 4
SILENCE_BELOW_PEAK_DB = 60.0  # tiles this far below the loudest tile of the track are ignored
LEVEL_DIFFERENCE_LIMIT_DB = 40.0
WIDTH_FLOOR_DB = -60.0  # width of dual mono (no side at all) is reported as this floor
SI_SDR_CEILING_DB = 100.0  # a fold-down exact to float precision is reported as this ceiling
SI_SDR_FLOOR_DB = -60.0  # a silent estimate, or one with nothing of the target in it, is reported as this floor

LOWER_IS_BETTER = (
    "ild_distance_db",
    "coherence_distance",
    "ild_error_db",
    "coherence_error",
    "ipd_error_rad",
    "ild_change_error_db",
    "width_error_db",
    "folddown_lsd_db",
)
HIGHER_IS_BETTER = ("folddown_si_sdr_db",)


@dataclass(frozen=True)
class SpatialCues:
    """Per band-tile inter-channel cues of a stereo signal; every array is `(bands, tiles)`."""

    level_difference_db: np.ndarray
    coherence: np.ndarray
    phase_difference_rad: np.ndarray
    energy: np.ndarray
    active: np.ndarray  # bool: the tile is loud enough to count
    bands: ErbBands
    tile_seconds: float


def _tile_sums(per_frame: np.ndarray) -> np.ndarray:
    """Sum `(bands, frames)` over non-overlapping groups of `FRAMES_PER_TILE` frames (a short last group is kept)."""
    num_bands, num_frames = per_frame.shape
    num_tiles = -(-num_frames // FRAMES_PER_TILE)
    padded = np.zeros((num_bands, num_tiles * FRAMES_PER_TILE), dtype=per_frame.dtype)
    padded[:, :num_frames] = per_frame
    return padded.reshape(num_bands, num_tiles, FRAMES_PER_TILE).sum(axis=2)


def spatial_cues(stereo: np.ndarray, sampling_rate: int, num_bands: int = 32) -> SpatialCues:
    """Inter-channel level difference, coherence and phase difference per ERB band and tile of `(n, 2)` audio."""
    stereo = np.asarray(stereo, dtype=np.float32)
    if stereo.ndim != 2 or stereo.shape[1] != 2:
        raise ValueError(f"spatial cues need stereo audio shaped (num_samples, 2), got shape {stereo.shape}")
    frame_length = frame_length_for(sampling_rate)
    bands = erb_bands(sampling_rate, frame_length, num_bands)
    left, right = short_time_spectrum(stereo, sampling_rate, frame_length)
    power_left = _tile_sums(bands.group(np.abs(left) ** 2).astype(np.float64))
    power_right = _tile_sums(bands.group(np.abs(right) ** 2).astype(np.float64))
    cross = _tile_sums(bands.group(left * np.conj(right)).astype(np.complex128))

    energy = power_left + power_right
    floor = max(energy.max(), 1e-30) * 10.0 ** (-SILENCE_BELOW_PEAK_DB / 10.0)
    active = energy > floor
    tiny = floor * 1e-3
    level_difference = 10.0 * np.log10((power_left + tiny) / (power_right + tiny))
    product = power_left * power_right
    # A tile silent in one channel holds a single hard-panned signal: fully coherent by convention.
    coherence = np.divide(np.abs(cross), np.sqrt(product), out=np.ones_like(product), where=product > 0)
    return SpatialCues(
        level_difference_db=np.clip(level_difference, -LEVEL_DIFFERENCE_LIMIT_DB, LEVEL_DIFFERENCE_LIMIT_DB),
        coherence=np.clip(coherence, 0.0, 1.0),
        phase_difference_rad=np.angle(cross),
        energy=energy,
        active=active,
        bands=bands,
        tile_seconds=FRAMES_PER_TILE * (frame_length // 2) / sampling_rate,
    )


def _check_same_grid(estimate: SpatialCues, reference: SpatialCues) -> None:
    if estimate.energy.shape != reference.energy.shape:
        raise ValueError(
            f"cue grids differ: estimate {estimate.energy.shape} vs reference {reference.energy.shape} (bands, tiles);"
            " compare signals of the same length and sampling rate"
        )


def cue_errors(estimate: SpatialCues, reference: SpatialCues) -> dict[str, float]:
    """Mean absolute cue errors per tile, weighted by the reference's energy over its non-silent tiles."""
    _check_same_grid(estimate, reference)
    weights = np.where(reference.active, reference.energy, 0.0)
    total = weights.sum()
    if total <= 0:
        raise ValueError("the reference is silent: no tile above the silence threshold")
    phase_error = np.abs(np.angle(np.exp(1j * (estimate.phase_difference_rad - reference.phase_difference_rad))))
    return {
        "ild_error_db": float(
            (weights * np.abs(estimate.level_difference_db - reference.level_difference_db)).sum() / total
        ),
        "coherence_error": float((weights * np.abs(estimate.coherence - reference.coherence)).sum() / total),
        "ipd_error_rad": float((weights * phase_error).sum() / total),
    }


def band_distribution_distances(
    estimate: np.ndarray, estimate_cues: SpatialCues, reference: np.ndarray, reference_cues: SpatialCues
) -> np.ndarray:
    """Per band, the 1-D Wasserstein distance between the energy-weighted distributions of a cue over tiles.

    Bands where either signal has no active tile are NaN. The distance is in the cue's own unit.
    """
    distances = np.full(estimate.shape[0], np.nan)
    for band in range(estimate.shape[0]):
        est_active, ref_active = estimate_cues.active[band], reference_cues.active[band]
        if not est_active.any() or not ref_active.any():
            continue
        distances[band] = wasserstein_distance(
            estimate[band, est_active],
            reference[band, ref_active],
            u_weights=estimate_cues.energy[band, est_active],
            v_weights=reference_cues.energy[band, ref_active],
        )
    return distances


def cue_distribution_distances(estimate: SpatialCues, reference: SpatialCues) -> dict[str, float]:
    """Band-averaged distribution distances of level difference magnitude (dB) and of coherence (unitless).

    Comparing distributions over the track rather than tile by tile does not penalise a source that sits at the
    same width at another moment, and using |level difference| does not penalise a mirrored (left/right) placement.
    """
    ild = band_distribution_distances(
        np.abs(estimate.level_difference_db), estimate, np.abs(reference.level_difference_db), reference
    )
    coherence = band_distribution_distances(estimate.coherence, estimate, reference.coherence, reference)
    return {"ild_distance_db": float(np.nanmean(ild)), "coherence_distance": float(np.nanmean(coherence))}


def ild_change_db(cues: SpatialCues) -> float:
    """How much the level differences move from one tile to the next: the mean of |ILD(t+1) - ILD(t)| (dB) over
    every band's pairs of consecutive active tiles, each pair weighted by its quieter tile's energy.

    The distribution distances cannot tell a source held on one side from one that jumps from side to side at
    every tile with the same spread; this can. NaN when no two consecutive tiles are active.
    """
    both = cues.active[:, 1:] & cues.active[:, :-1]
    weights = np.where(both, np.minimum(cues.energy[:, 1:], cues.energy[:, :-1]), 0.0)
    total = weights.sum()
    if total <= 0:
        return float("nan")
    change = np.abs(np.diff(cues.level_difference_db, axis=1))
    return float((weights * change).sum() / total)


def stereo_width_db(stereo: np.ndarray) -> float:
    """Side-to-mid energy ratio of `(n, 2)` audio in dB, floored at `WIDTH_FLOOR_DB`."""
    return width_db(stereo, floor_db=WIDTH_FLOOR_DB)


def fold_down(stereo: np.ndarray) -> np.ndarray:
    """The mono fold-down (L+R)/2 of `(n, 2)` audio."""
    return fold(np.asarray(stereo, dtype=np.float64)).astype(np.float32)


def scale_invariant_sdr_db(estimate: np.ndarray, target: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio of `estimate` against `target` in dB, capped at the ceiling."""
    estimate = np.asarray(estimate, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    target_energy = np.dot(target, target)
    if target_energy <= 0:
        raise ValueError("SI-SDR needs a non-silent target")
    projection = (np.dot(estimate, target) / target_energy) * target
    signal_energy = np.sum(projection**2)
    distortion_energy = np.sum((estimate - projection) ** 2)
    if signal_energy <= 0:
        return SI_SDR_FLOOR_DB
    if distortion_energy <= 0:
        return SI_SDR_CEILING_DB
    return float(np.clip(10.0 * np.log10(signal_energy / distortion_energy), SI_SDR_FLOOR_DB, SI_SDR_CEILING_DB))


def log_spectral_distance_db(estimate: np.ndarray, target: np.ndarray, sampling_rate: int) -> float:
    """Root-mean-square difference of log power spectra (dB), averaged over the target's non-silent frames."""
    est_power = np.abs(short_time_spectrum(estimate, sampling_rate)).astype(np.float64) ** 2
    target_power = np.abs(short_time_spectrum(target, sampling_rate)).astype(np.float64) ** 2
    floor = max(target_power.max(), 1e-30) * 10.0 ** (-SILENCE_BELOW_PEAK_DB / 10.0)
    frame_energy = target_power.sum(axis=0)
    active = frame_energy > floor * target_power.shape[0] * 1e-3
    if not active.any():
        raise ValueError("log-spectral distance needs a non-silent target")
    difference = 10.0 * np.log10(est_power[:, active] + floor) - 10.0 * np.log10(target_power[:, active] + floor)
    return float(np.mean(np.sqrt(np.mean(difference**2, axis=0))))


def scores_from_cues(
    estimate: np.ndarray,
    estimate_cues: SpatialCues,
    reference: np.ndarray,
    reference_cues: SpatialCues,
    mono: np.ndarray,
    sampling_rate: int,
) -> dict[str, float]:
    """Every metric of one `(n, 2)` upmix whose cues are already measured (see `evaluate_upmix`)."""
    if estimate.shape != reference.shape:
        raise ValueError(f"estimate shape {estimate.shape} differs from reference shape {reference.shape}")
    estimate_width = stereo_width_db(estimate)
    estimate_change = ild_change_db(estimate_cues)
    folded = fold_down(estimate)
    return {
        **cue_distribution_distances(estimate_cues, reference_cues),
        **cue_errors(estimate_cues, reference_cues),
        "ild_change_db": estimate_change,
        "ild_change_error_db": abs(estimate_change - ild_change_db(reference_cues)),
        "width_db": estimate_width,
        "width_error_db": abs(estimate_width - stereo_width_db(reference)),
        "folddown_si_sdr_db": scale_invariant_sdr_db(folded, mono),
        "folddown_lsd_db": log_spectral_distance_db(folded, mono, sampling_rate),
    }


def evaluate_upmix(
    estimate: np.ndarray, reference: np.ndarray, mono: np.ndarray, sampling_rate: int
) -> dict[str, float]:
    """Every metric of one `(n, 2)` upmix against its `(n, 2)` reference and the `(n,)` mono it was made from."""
    if estimate.shape != reference.shape:
        raise ValueError(f"estimate shape {estimate.shape} differs from reference shape {reference.shape}")
    return scores_from_cues(
        estimate,
        spatial_cues(estimate, sampling_rate),
        reference,
        spatial_cues(reference, sampling_rate),
        mono,
        sampling_rate,
    )


def band_means(values: np.ndarray, cues: SpatialCues) -> np.ndarray:
    """Energy-weighted mean of a `(bands, tiles)` cue over each band's active tiles: `(bands,)`, NaN if none."""
    weights = np.where(cues.active, cues.energy, 0.0)
    totals = weights.sum(axis=1)
    sums = (weights * values).sum(axis=1)
    return np.divide(sums, totals, out=np.full(len(totals), np.nan), where=totals > 0)


def pan_position(cues: SpatialCues) -> np.ndarray:
    """Energy pan per tile, (P_R - P_L) / (P_L + P_R): -1 hard left, 0 centre, 1 hard right. `(bands, tiles)`."""
    return -np.tanh(cues.level_difference_db * np.log(10.0) / 20.0)


def best_of_variants(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Best-of-N: for each metric the best value over the variants; `width_db` and `ild_change_db` are those of
    the variant with the smallest error of each."""
    if not scores:
        raise ValueError("best-of-N needs at least one variant's scores")
    best: dict[str, float] = {}
    for name in scores[0]:
        values = [float(score[name]) for score in scores]
        if name in LOWER_IS_BETTER:
            best[name] = min(values)
        elif name in HIGHER_IS_BETTER:
            best[name] = max(values)
    for own, error in (("width_db", "width_error_db"), ("ild_change_db", "ild_change_error_db")):
        if own in scores[0]:
            best[own] = float(min(scores, key=lambda score: score[error])[own])
    return best
