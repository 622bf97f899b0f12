"""What an upmix returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class UpmixOutput:
    """The result of a pipeline call.

    Args:
        audio: float32 stereo at the input's rate and length, `(samples, 2)`, or `(variants, samples, 2)` when
            several variants were asked for; None when it was written to files block by block.
        sampling_rate: the input's sample rate in Hz.
        peak_gain: the one gain applied to a whole variant, only when its mid (the input) itself passes the peak
            ceiling, one per variant (1.0 otherwise). With `keep-mid` rendering the fold-down `(L + R) / 2` is the
            input times this gain.
        folded: True when stereo input was folded to mono `(L + R) / 2` first.
        fold_level_db: for folded input, the fold-down's energy relative to the channels' in dB; far below 0
            (`audio_io.FOLD_CANCEL_DB`) means the channels cancel and one channel should be upmixed instead.
        side_gain: per variant, the smallest gain the side limiter applied where `L` or `R` would have passed the
            ceiling (1.0 when the side never had to be turned down); the mid is untouched by it.
    """

    audio: np.ndarray | None
    sampling_rate: int
    peak_gain: np.ndarray
    folded: bool = False
    fold_level_db: float | None = None
    side_gain: np.ndarray | None = None


__all__ = ["UpmixOutput"]
