"""DSP upmixers without weights, behind `--model dsp:NAME` (and the baselines of `mono2stereo eval`).

Each upmixer in `DSP_UPMIXERS` maps mono `(n,)` audio and its sampling rate to `(n, 2)` stereo at width 1.
Those built as mid/side (L = M + S, R = M - S with M the input) keep the fold-down (L+R)/2 equal to the input.
`upmix_dsp` is the entry point: it accepts mono or stereo and applies the width. Its stereo is not limited: peak
safety is the pipeline's (`mono2stereo.inference.limiting`, behind `--model dsp:NAME`), which reports what it applies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..audio import fold, from_mid_side, mid_side
from . import dsp_upmixer_name
from .decorrelators import phase_network, schroeder_allpass
from .sources import upmix_sources

SIDE_GAIN = 0.4  # a side-to-mid ratio of about -8 dB, the median width of commercial stereo music
LAURIDSEN_DELAY_SECONDS = 0.012


def upmix_dual(mono: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Dual mono: the input on both channels. Keeps the fold-down."""
    return from_mid_side(mono, np.zeros_like(mono)).astype(np.float32)


def upmix_lauridsen(mono: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Lauridsen's complementary comb filters: side = delayed input, so L and R have interleaved notches.

    Keeps the fold-down.
    """
    delay = min(round(LAURIDSEN_DELAY_SECONDS * sampling_rate), len(mono))
    delayed = np.zeros_like(mono)
    delayed[delay:] = mono[: len(mono) - delay]
    return from_mid_side(mono, SIDE_GAIN * delayed).astype(np.float32)


def upmix_allpass(mono: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Schroeder all-pass decorrelation: side = input through a cascade of Schroeder all-pass sections.

    Keeps the fold-down.
    """
    side = SIDE_GAIN * schroeder_allpass(mono, sampling_rate).astype(np.float32)
    return from_mid_side(mono, side).astype(np.float32)


def upmix_orban(mono: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Orban's phase-network pseudo-stereo: side = input through smooth all-pass phase shifts, so pan sweeps with
    frequency. Keeps the fold-down.
    """
    side = SIDE_GAIN * phase_network(mono, sampling_rate).astype(np.float32)
    return from_mid_side(mono, side).astype(np.float32)


DSP_UPMIXERS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "dual": upmix_dual,
    "lauridsen": upmix_lauridsen,
    "allpass": upmix_allpass,
    "orban": upmix_orban,
    "sources": upmix_sources,
}


def upmix_dsp(name: str, audio: np.ndarray, sampling_rate: int, width: float = 1.0) -> np.ndarray:
    """Upmix mono `(n,)` or stereo `(n, 2)` audio (folded to mono first) with a DSP upmixer: `(n, 2)` float32.

    Peaks are not limited here; `mono2stereo.upmix(audio, rate, model="dsp:NAME")` limits and reports them.
    """
    upmixer = DSP_UPMIXERS[dsp_upmixer_name(name)]
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2 and audio.shape[1] == 2:
        audio = fold(audio)
    elif audio.ndim == 2 and audio.shape[1] == 1:
        audio = audio[:, 0]
    if audio.ndim != 1:
        raise ValueError(f"audio shaped {audio.shape}; a DSP upmixer takes mono (n,) or stereo (n, 2)")
    if not width >= 0:
        raise ValueError(f"width {width} is negative; use 0 for dual mono, 1 for the upmixer's natural width")
    if sampling_rate <= 0:
        raise ValueError(f"sampling rate {sampling_rate} must be a positive number of samples per second")
    if len(audio) == 0:
        return np.zeros((0, 2), dtype=np.float32)

    mid, side = mid_side(upmixer(audio, sampling_rate).astype(np.float64))
    return from_mid_side(mid, side * width).astype(np.float32)
