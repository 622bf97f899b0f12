"""What an upmix returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class UpmixOutput:
    """The result of a pipeline call.

    Args:
        audio: float32 stereo at the input's rate and length, `(samples, 2)`, or `(variants, samples, 2)` when
            several variants were asked for.
        sampling_rate: the input's sample rate in Hz.
        peak_gain: the gain applied to both channels to keep peaks below full scale, one per variant (1.0 when
            none was needed). With `mid-side` rendering the fold-down `(L + R) / 2` is the input times this gain.
        folded: True when stereo input was folded to mono `(L + R) / 2` first.
        fold_level_db: for folded input, the fold-down's energy relative to the channels' in dB; far below 0
            (`audio_io.FOLD_CANCEL_DB`) means the channels cancel and one channel should be upmixed instead.
    """

    audio: np.ndarray
    sampling_rate: int
    peak_gain: np.ndarray
    folded: bool = False
    fold_level_db: float | None = None


__all__ = ["UpmixOutput"]
