"""Sample-rate conversion with soxr, keeping the length exact."""

from __future__ import annotations

import numpy as np
import soxr


def resampled_length(num_samples: int, from_rate: int, to_rate: int) -> int:
    """Samples that `num_samples` at `from_rate` last at `to_rate` (at least one)."""
    return max(1, round(num_samples * to_rate / from_rate))


def resample(audio: np.ndarray, from_rate: int, to_rate: int, num_samples: int | None = None) -> np.ndarray:
    """Resample `(samples,)` or `(samples, channels)` float32 audio, trimmed or zero-padded to `num_samples`.

    `num_samples` defaults to `resampled_length`; asking for the length of the original when going back keeps a
    round trip sample-exact in length.
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if num_samples is None:
        num_samples = resampled_length(audio.shape[0], from_rate, to_rate)
    if from_rate != to_rate:
        audio = soxr.resample(audio, from_rate, to_rate, quality="HQ")
    if audio.shape[0] > num_samples:
        return audio[:num_samples]
    if audio.shape[0] < num_samples:
        padding = [(0, num_samples - audio.shape[0])] + [(0, 0)] * (audio.ndim - 1)
        return np.pad(audio, padding)
    return audio


__all__ = ["resample", "resampled_length"]
