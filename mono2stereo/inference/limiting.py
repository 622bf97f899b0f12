"""Peak safety: the side is turned down where `|M + S|` or `|M - S|` would pass the ceiling; the mid is kept.

`L, R = M + g S, M - g S` with `g(t) <= 1` a smooth gain on the side alone: where `|M| + |S|` would exceed
`PEAK_CEILING`, the side gets the largest gain that keeps both channels within it. The gain looks ahead and
back by `LOOKAHEAD_SECONDS`: it is a moving minimum of the gain each sample needs, then a moving average of the
same length, so it falls before a peak, rises after it, and never changes faster than a raised ramp of that
length (no clicks), while staying at or below what every sample needs. The mid is therefore the input, at its
level. Only an input whose own peak passes the ceiling is turned down as a whole (`input_gain`), once, by one
gain, before the side is limited.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..audio import PEAK_CEILING, from_mid_side, input_gain, peak_gain

LOOKAHEAD_SECONDS = 0.005


def lookahead_samples(sampling_rate: int) -> int:
    """Half the length of the side gain's moving minimum and average, in samples (at least one)."""
    return max(1, round(LOOKAHEAD_SECONDS * sampling_rate))


def side_gain(mid: np.ndarray, side: np.ndarray, sampling_rate: int, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Smooth gain `(samples,)` in [0, 1] on `side` that keeps `|mid +- gain * side|` within `ceiling`.

    `mid` must itself stay within `ceiling` (see `input_gain`). Each output sample depends on the inputs within
    `2 * lookahead_samples` of it, so a long signal can be limited in blocks with that much overlap.
    """
    mid = np.abs(np.asarray(mid, dtype=np.float64))
    side = np.abs(np.asarray(side, dtype=np.float64))
    needed = np.ones_like(side)
    over = (mid + side > ceiling) & (side > 0)
    if not over.any():
        return needed.astype(np.float32)
    needed[over] = np.clip((ceiling - mid[over]) / side[over], 0.0, 1.0)
    half = lookahead_samples(sampling_rate)
    size = 2 * half + 1
    lowest = ndimage.minimum_filter1d(needed, size, mode="nearest")
    # the average of minima over the same span is at most the gain each sample of that span needs
    smooth = ndimage.uniform_filter1d(lowest, size, mode="nearest")
    return np.clip(smooth, 0.0, 1.0).astype(np.float32)


def limit_side(
    mid: np.ndarray, side: np.ndarray, sampling_rate: int, ceiling: float = PEAK_CEILING
) -> tuple[np.ndarray, float]:
    """Stereo `mid +- gain * side` `(samples, 2)`, the side gain from `side_gain`; returns (stereo, least gain)."""
    gain = side_gain(mid, side, sampling_rate, ceiling)
    stereo = from_mid_side(np.asarray(mid, dtype=np.float32), gain * np.asarray(side, dtype=np.float32))
    # float32 rounding of mid + side can land a hair above the ceiling; never let it pass
    np.clip(stereo, -ceiling, ceiling, out=stereo)
    return stereo, float(gain.min()) if gain.size else 1.0


__all__ = [
    "PEAK_CEILING",
    "LOOKAHEAD_SECONDS",
    "input_gain",
    "peak_gain",
    "lookahead_samples",
    "side_gain",
    "limit_side",
]
