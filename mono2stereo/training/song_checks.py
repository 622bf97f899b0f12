"""Which stereo songs are worth training on: no near-mono, no delayed-copy "stereo", no song twice.

A song is measured once (`measure_song`): its width (side-to-mid energy ratio), its L/R correlation, the strongest
normalised cross-correlation of L and R within `MAX_COPY_LAG_S` (a pure delay or gain of one channel gives 1), and a
fingerprint: the log energy envelope of the mid in ERB bands, about 16 frames a second. Re-encoding, a gain change
or a cut keep the envelope, so two songs whose envelopes correlate above `DUPLICATE_CORRELATION` over at least
`MIN_DUPLICATE_OVERLAP_S` are the same song (`find_duplicates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from ..audio import fold
from ..dsp.bands import erb_bands, short_time_spectrum
from ..evaluation.metrics import stereo_width_db

NEAR_MONO_WIDTH_DB = -20.0  # side 20 dB below mid: L/R correlate above 0.98, nothing to learn a placement from
COPY_CORRELATION = 0.98  # one channel a delayed (or scaled) copy of the other
MAX_COPY_LAG_S = 0.03  # Haas-effect "wideners" delay one channel by up to about 30 ms
COPY_EXCERPT_S = 10.0
COPY_EXCERPTS = 6  # excerpts spread over the song, each must look like a copy
FINGERPRINT_RATE = 8000
FINGERPRINT_FRAME = 1024  # 128 ms frames, hop 64 ms
FINGERPRINT_BANDS = 16
DUPLICATE_CORRELATION = 0.7  # of the envelopes' frame-to-frame changes
MIN_DUPLICATE_OVERLAP_S = 30.0
ENVELOPE_FLOOR = 5.0  # log10 units: 50 dB below the loudest frame
NEIGHBOURS = 24  # candidate duplicates per song: the nearest by spectral shape, then checked by envelope


@dataclass
class SongMeasures:
    """What `measure_song` finds in one song."""

    width_db: float
    lr_correlation: float
    copy_correlation: float  # the strongest |normalised cross-correlation| of L and R within MAX_COPY_LAG_S
    copy_lag_s: float
    fingerprint: np.ndarray  # (frames, FINGERPRINT_BANDS) float32 log energies

    def rejection(self) -> str | None:
        """The rule that removes the song, or None to keep it."""
        if self.width_db < NEAR_MONO_WIDTH_DB:
            return "near-mono"
        if self.copy_correlation >= COPY_CORRELATION:
            return "delayed-copy"
        return None


def _excerpt_copy_correlation(left: np.ndarray, right: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Strongest |normalised cross-correlation| of two excerpts over lags within `max_lag`, and its lag."""
    left, right = left - left.mean(), right - right.mean()
    norm = np.sqrt(np.sum(left**2) * np.sum(right**2))
    if norm <= 0:
        return 1.0, 0  # a silent excerpt says nothing against a copy
    size = 1 << int(np.ceil(np.log2(len(left) + max_lag + 1)))
    cross = np.fft.irfft(np.fft.rfft(left, size) * np.conj(np.fft.rfft(right, size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    values = np.concatenate([cross[: max_lag + 1], cross[-max_lag:]]) / norm
    best = int(np.argmax(np.abs(values)))
    return float(abs(values[best])), int(lags[best])


def copy_correlation(audio: np.ndarray, sampling_rate: int) -> tuple[float, float]:
    """How much one channel is a delayed copy of the other: the weakest, over `COPY_EXCERPTS` excerpts spread over
    the song, of the strongest |normalised cross-correlation| within `MAX_COPY_LAG_S`; and that excerpt's lag in s.

    A real mix with one near-mono passage correlates strongly there but not everywhere; a copy does everywhere.
    """
    length = min(len(audio), int(COPY_EXCERPT_S * sampling_rate))
    starts = np.linspace(0, len(audio) - length, COPY_EXCERPTS).astype(int)
    max_lag = int(MAX_COPY_LAG_S * sampling_rate)
    found = []
    for start in starts:
        excerpt = audio[start : start + length].astype(np.float64)
        found.append(_excerpt_copy_correlation(excerpt[:, 0], excerpt[:, 1], max_lag))
    correlation, lag = min(found)
    return correlation, lag / sampling_rate


def fingerprint(audio: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Log energy of the mid in ERB bands, `(frames, FINGERPRINT_BANDS)` float32, one frame every 64 ms."""
    mid = soxr.resample(fold(audio), sampling_rate, FINGERPRINT_RATE)
    power = np.abs(short_time_spectrum(mid, FINGERPRINT_RATE, FINGERPRINT_FRAME)) ** 2
    bands = erb_bands(FINGERPRINT_RATE, FINGERPRINT_FRAME, FINGERPRINT_BANDS)
    return np.log10(bands.group(power) + 1e-10).T.astype(np.float32)


def measure_song(audio: np.ndarray, sampling_rate: int) -> SongMeasures:
    """Width, L/R correlation, copy correlation and fingerprint of `(n, 2)` audio."""
    centred = audio - audio.mean(axis=0)
    energies = np.sum(centred.astype(np.float64) ** 2, axis=0)
    product = float(np.sum(centred[:, 0].astype(np.float64) * centred[:, 1]))
    lr = product / np.sqrt(energies[0] * energies[1]) if energies.min() > 0 else 1.0
    copy, lag = copy_correlation(audio, sampling_rate)
    return SongMeasures(stereo_width_db(audio), float(lr), copy, lag, fingerprint(audio, sampling_rate))


def _standardised(envelope: np.ndarray) -> np.ndarray:
    """The envelope's changes from frame to frame, each band at zero mean and unit variance.

    Levels are floored `ENVELOPE_FLOOR` below the song's loudest frame first, so silence (a fade to digital zero,
    a pause) changes nothing and two songs are not alike for being silent at the same moments.
    """
    floored = np.maximum(envelope, envelope.max() - ENVELOPE_FLOOR)
    changes = floored[2:] - floored[:-2]  # over two frames: a copy cut between frames still lines up
    return (changes - changes.mean(axis=0)) / (changes.std(axis=0) + 1e-6)


def envelope_match(first: np.ndarray, second: np.ndarray) -> float:
    """Best correlation of two fingerprints over time offsets that overlap by `MIN_DUPLICATE_OVERLAP_S` or more."""
    min_overlap = int(MIN_DUPLICATE_OVERLAP_S * FINGERPRINT_RATE / (FINGERPRINT_FRAME // 2))
    if min(len(first), len(second)) < min_overlap:
        return 0.0
    a, b = _standardised(first), _standardised(second)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    cross = np.fft.irfft(np.fft.rfft(a, size, axis=0) * np.conj(np.fft.rfft(b, size, axis=0)), size, axis=0).sum(1)
    # cross[k] pairs a[t + k] with b[t]; overlap length at each offset
    offsets = np.concatenate([np.arange(0, len(a)), np.arange(-(len(b) - 1), 0)])
    cross = np.concatenate([cross[: len(a)], cross[size - (len(b) - 1) :]])
    overlap = np.minimum(len(a) - np.maximum(offsets, 0), len(b) + np.minimum(offsets, 0))
    valid = overlap >= min_overlap
    if not valid.any():  # the frame-to-frame changes are two frames shorter than the songs
        return 0.0
    return float(np.max(cross[valid] / (overlap[valid] * a.shape[1])))


def spectral_shape(envelope: np.ndarray) -> np.ndarray:
    """A song's mean band levels (without its overall level) and their spread over time: a gain-free descriptor."""
    mean = envelope.mean(axis=0)
    return np.concatenate([mean - mean.mean(), envelope.std(axis=0)])


def find_duplicates(fingerprints: list[np.ndarray]) -> list[tuple[int, int, float]]:
    """Pairs `(i, j, correlation)` of songs that are the same song, checked among each song's nearest neighbours."""
    if len(fingerprints) < 2:
        return []
    shapes = np.stack([spectral_shape(f) for f in fingerprints])
    distances = np.linalg.norm(shapes[:, None, :] - shapes[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    candidates = set()
    for i, row in enumerate(distances):
        for j in np.argsort(row)[: min(NEIGHBOURS, len(row) - 1)]:
            candidates.add((min(i, int(j)), max(i, int(j))))
    pairs = []
    for i, j in sorted(candidates):
        correlation = envelope_match(fingerprints[i], fingerprints[j])
        if correlation >= DUPLICATE_CORRELATION:
            pairs.append((i, j, correlation))
    return pairs


def duplicate_groups(count: int, pairs: list[tuple[int, int, float]]) -> list[list[int]]:
    """Connected groups (two or more songs) of the duplicate pairs, each sorted."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in pairs:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return [sorted(group) for group in groups.values() if len(group) > 1]


__all__ = [
    "SongMeasures",
    "measure_song",
    "copy_correlation",
    "fingerprint",
    "envelope_match",
    "find_duplicates",
    "duplicate_groups",
    "NEAR_MONO_WIDTH_DB",
    "COPY_CORRELATION",
]
