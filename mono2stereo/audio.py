"""Stereo arithmetic, in one place: fold to mono, mid/side and back, width, peak gain, the audio file extensions.

Every function takes numpy arrays or torch tensors and is told where the two channels are by `axis`:
`CHANNELS_LAST` for soundfile's `(samples, 2)` (or `(..., samples, 2)`), `CHANNELS_FIRST` for torch's
`(..., 2, samples)`. The mid `M = (L + R) / 2` is the mono fold-down and the side is `S = (L - R) / 2`, so
`L, R = M + S, M - S`. Both directions are exact for audio on a PCM grid (16-bit samples in float32, 24-bit in
float64); for other floats they agree within a rounding step.

This module imports neither torch nor scipy: the command line reads its arguments before torch loads.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

CHANNELS_LAST = -1  # (samples, 2): soundfile, numpy
CHANNELS_FIRST = -2  # (..., 2, samples): torch, the model
PEAK_CEILING = 0.999  # the one ceiling for every output: model renders, DSP upmixers and mixes alike
# What mono2stereo writes, by extension, as soundfile names the formats.
AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3", ".aiff": "AIFF", ".aif": "AIFF"}
# What mono2stereo reads: all of those, and Opus (read through soundfile's OGG decoder).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")
FOLD_BLOCK = 1 << 16  # frames measured at a time by `fold_level_db`: no float64 copy of a whole song


def _is_tensor(audio: Any) -> bool:
    torch = sys.modules.get("torch")  # a tensor can only exist once torch is imported
    return torch is not None and isinstance(audio, torch.Tensor)


def _channel(stereo, index: int, axis: int):
    """Channel `index` (0 left, 1 right) of `stereo` along `axis`, that axis dropped."""
    if stereo.shape[axis] != 2:
        raise ValueError(f"audio shaped {tuple(stereo.shape)} has {stereo.shape[axis]} channels on axis {axis}, not 2")
    if axis < 0:
        return stereo[(Ellipsis, index) + (slice(None),) * (-axis - 1)]
    return stereo[(slice(None),) * axis + (index,)]


def left_right(stereo, axis: int = CHANNELS_LAST) -> tuple[Any, Any]:
    """The left and right channels of `stereo`, each without the channel axis."""
    return _channel(stereo, 0, axis), _channel(stereo, 1, axis)


def fold(stereo, axis: int = CHANNELS_LAST):
    """The mono fold-down, the mid `(L + R) / 2`, without the channel axis."""
    left, right = left_right(stereo, axis)
    return (left + right) / 2


def side(stereo, axis: int = CHANNELS_LAST):
    """The side `(L - R) / 2`, without the channel axis."""
    left, right = left_right(stereo, axis)
    return (left - right) / 2


def mid_side(stereo, axis: int = CHANNELS_LAST) -> tuple[Any, Any]:
    """The mid `(L + R) / 2` and side `(L - R) / 2` of `stereo`; `from_mid_side` is the inverse."""
    left, right = left_right(stereo, axis)
    return (left + right) / 2, (left - right) / 2


def from_mid_side(mid, side, axis: int = CHANNELS_LAST):
    """Stereo `L, R = M + S, M - S` with the channels on `axis` (numpy or torch as `mid` is)."""
    if _is_tensor(mid) or _is_tensor(side):
        import torch

        return torch.stack([mid + side, mid - side], dim=axis)
    return np.stack([mid + side, mid - side], axis=axis)


def width_db(stereo, axis: int = CHANNELS_LAST, eps: float = 0.0, floor_db: float | None = None):
    """Width: the side-to-mid energy ratio in dB over the samples axis (the last once the channels are taken out).

    `eps` is added to both mean energies (the model's width control uses 1e-8); `floor_db` is the least width
    reported (dual mono, with no side at all, has minus infinity otherwise). numpy audio is measured in float64
    and gives a float, or an array for `(..., samples, 2)`; a tensor is measured in its own dtype and gives a
    tensor of its leading shape.
    """
    if _is_tensor(stereo):
        mid, side_ = mid_side(stereo, axis)
        ratio = (side_.pow(2).mean(-1) + eps) / (mid.pow(2).mean(-1) + eps).clamp(min=1e-30)
        width = 10 * ratio.log10()
        return width if floor_db is None else width.clamp(min=floor_db)
    mid, side_ = mid_side(np.asarray(stereo, dtype=np.float64), axis)
    regulariser = eps * mid.shape[-1]  # energies are summed here: the ratio of sums is that of means
    mid_energy = np.sum(np.square(mid), axis=-1) + regulariser
    side_energy = np.sum(np.square(side_), axis=-1) + regulariser
    with np.errstate(divide="ignore"):  # no side: log10(0) is minus infinity, then the floor
        width = 10.0 * np.log10(side_energy / np.maximum(mid_energy, 1e-30))
    if floor_db is not None:
        width = np.maximum(width, floor_db)
    return float(width) if np.ndim(width) == 0 else width


def fold_energies(stereo: np.ndarray) -> tuple[float, float]:
    """Energies of `(samples, 2)` audio in float64: of the channels (their mean) and of the fold-down."""
    wide = np.asarray(stereo, dtype=np.float64)
    return float(np.square(wide).sum()) / 2, float(np.square(fold(wide)).sum())


def fold_level_db(stereo: np.ndarray) -> float:
    """The fold-down `(L + R) / 2`'s energy relative to the mean of the channels', in dB (0 for dual mono).

    `stereo` is `(samples, 2)`, an array or anything sliced like one; it is read `FOLD_BLOCK` frames at a time.
    """
    channels = folded = 1e-20
    for start in range(0, len(stereo), FOLD_BLOCK):
        block_channels, block_folded = fold_energies(stereo[start : start + FOLD_BLOCK])
        channels += block_channels
        folded += block_folded
    return level_ratio_db(folded, channels)


def level_ratio_db(energy: float, reference: float) -> float:
    """`energy` relative to `reference` in dB (both positive)."""
    return float(10 * np.log10(energy / reference))


def input_gain(peak: float, ceiling: float = PEAK_CEILING) -> float:
    """The one gain (<= 1) that brings audio peaking at `peak` within `ceiling`; 1.0 when it already is."""
    return 1.0 if peak <= ceiling else ceiling / peak


def peak_gain(audio, ceiling: float = PEAK_CEILING) -> float:
    """The one gain (<= 1) that keeps every sample of `audio` (numpy or torch, any shape) within `ceiling`."""
    if _is_tensor(audio):
        peak = float(audio.abs().max()) if audio.numel() else 0.0
    else:
        audio = np.asarray(audio)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return input_gain(peak, ceiling)


__all__ = [
    "AUDIO_EXTENSIONS",
    "AUDIO_FORMATS",
    "CHANNELS_FIRST",
    "CHANNELS_LAST",
    "PEAK_CEILING",
    "fold",
    "fold_energies",
    "fold_level_db",
    "from_mid_side",
    "input_gain",
    "left_right",
    "level_ratio_db",
    "mid_side",
    "peak_gain",
    "side",
    "width_db",
]
