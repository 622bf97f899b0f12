"""Rendering a song of any length in blocks with overlap, each block written out as soon as it is done.

The render's cues are local (an STFT of `dsp.bands.ANALYSIS_SECONDS`, a few frames of smoothing, a decorrelation
filter of tens of ms, the side limiter's look-ahead), so a block rendered with `block_margin` samples of the song on
each side equals the same span of a whole-song render. Two passes: the first sums what the whole song decides
(the generated side's lean per band, over the STFT frames centred in each block, so the sums are those of the
whole song whatever the block; and the peak of the output's mid, which sets the one gain for an input that
already clips); the second renders, limits and writes each block. Memory is that of one block, whatever the song's
length; `mono` and `generated` may be arrays or `spool.AudioSpool`s. Blocks are short (`BLOCK_SECONDS`): a
block's float64 spectra are most of the render's memory, and the heap keeps what short-lived large arrays leave
free and fragmented, which over an hour of blocks would add to the peak; so after each block the free memory is
given back to the system (`release_free_memory`; benchmarks/RESULTS.md, "Memory flat in length and variants").
A spatial model's cues are rendered the same way (`render_cues`): its codec makes the side against the input
block by block, and the side is limited as here.
"""

from __future__ import annotations

import ctypes
import functools
import math
from typing import Protocol

import numpy as np

from ..audio import PEAK_CEILING, from_mid_side, input_gain, side
from ..dsp.bands import BandAnalysis
from ..dsp.decorrelators import decorrelate, decorrelation_filter
from . import rendering
from .limiting import lookahead_samples, side_gain
from .render_modes import render_mode

BLOCK_SECONDS = 2.5  # with 0.16 s of margin each side at 44.1 kHz: 13 % more STFT frames than one whole-song pass


class AudioSink(Protocol):
    """Where rendered stereo goes, block after block: an array being filled, or a file being written."""

    def write(self, frames: np.ndarray) -> None: ...


class ArraySink:
    """Fills a preallocated `(samples, 2)` array from its start."""

    def __init__(self, num_samples: int):
        self.audio = np.zeros((num_samples, 2), dtype=np.float32)
        self.position = 0

    def write(self, frames: np.ndarray) -> None:
        """Copy `frames` after those written before."""
        self.audio[self.position : self.position + len(frames)] = frames
        self.position += len(frames)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc
    except (AttributeError, OSError):
        return None


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc's `malloc_trim`; nothing elsewhere), so the arrays of
    finished blocks do not stay in the process's resident memory."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def block_margin(sampling_rate: int) -> int:
    """Samples of context each side of a block: the STFT window twice, the decorrelator and the limiter's reach."""
    n_fft = BandAnalysis.fft_size(sampling_rate)
    filter_length = len(decorrelation_filter(sampling_rate))
    margin = 2 * n_fft + filter_length + 4 * lookahead_samples(sampling_rate)
    hop = n_fft // 4
    return math.ceil(margin / hop) * hop  # whole hops keep every block's STFT frames on the song's frames


def block_length(sampling_rate: int, block_seconds: float = BLOCK_SECONDS) -> int:
    """Samples per block: about `block_seconds`, in whole STFT hops."""
    hop = BandAnalysis.fft_size(sampling_rate) // 4
    return max(1, round(block_seconds * sampling_rate / hop)) * hop


def song_statistics(mode: str, mono, generated, sampling_rate: int, block: int) -> tuple[np.ndarray | None, float]:
    """First pass: the lean per band (None in `codec`, which keeps the generated stereo) and the mid's peak.

    The lean's sums take, from each block's span (the block and `block_margin` around it), the STFT frames
    centred in the block, which are the whole song's own frames: the lean does not depend on `block`.
    """
    cross = energy = None
    peak = 0.0
    num_samples = len(mono)
    margin, hop = block_margin(sampling_rate), BandAnalysis.fft_size(sampling_rate) // 4
    for start in range(0, num_samples, block):
        stop = min(start + block, num_samples)
        peak = max(peak, float(np.max(np.abs(rendering.render_mid(mode, mono[start:stop], generated[start:stop])))))
        if mode == "codec":
            continue
        first, last = max(0, start - margin), min(num_samples, stop + margin)
        frames = slice((start - first) // hop, (stop - first) // hop if stop < num_samples else None)
        block_cross, block_energy = rendering.side_lean(generated[first:last], sampling_rate, frames)
        cross = block_cross if cross is None else cross + block_cross
        energy = block_energy if energy is None else energy + block_energy
        release_free_memory()
    lean = None if cross is None else rendering.lean_from_sums(cross, energy)
    return lean, peak


def render_song(
    mode: str,
    mono,
    generated,
    sampling_rate: int,
    sink: AudioSink,
    width: float = 1.0,
    block_seconds: float = BLOCK_SECONDS,
) -> tuple[float, float]:
    """Render `mono (samples,)` and `generated (samples, 2)` in `mode` block by block into `sink`.

    Returns `(gain, least side gain)`: the one gain on the whole output (below 1 only when the mid itself would
    clip) and the smallest gain the side limiter applied (1.0 when the side never had to be turned down).
    """
    mode = render_mode(mode)
    num_samples = len(mono)
    block = block_length(sampling_rate, block_seconds)
    margin = block_margin(sampling_rate)
    filter_length = len(decorrelation_filter(sampling_rate))
    lean, peak = song_statistics(mode, mono, generated, sampling_rate, block)
    gain = np.float32(input_gain(peak))
    least = 1.0
    for start in range(0, num_samples, block):
        stop = min(start + block, num_samples)
        first, last = max(0, start - margin), min(num_samples, stop + margin)
        mono_span, generated_span = mono[first:last] * gain, generated[first:last] * gain
        decorrelated = None
        if mode == "parametric":  # the filter's memory reaches back before the span
            history = max(0, first - filter_length)
            decorrelated = decorrelate(mono[history:last] * gain, sampling_rate)[first - history :]
        stereo = rendering.render_unlimited(
            mode, mono_span, generated_span, sampling_rate, width, lean=lean, decorrelated=decorrelated
        )
        mid = rendering.render_mid(mode, mono_span, generated_span).astype(np.float32)
        stereo_side = side(stereo)
        limiter = side_gain(mid, stereo_side, sampling_rate)
        keep = slice(start - first, stop - first)
        block_least = float(limiter[keep].min())
        if block_least < 1.0:
            out = from_mid_side(mid[keep], limiter[keep] * stereo_side[keep])
        else:
            out = stereo[keep]
        np.clip(out, -PEAK_CEILING, PEAK_CEILING, out=out)
        least = min(least, block_least)
        sink.write(out)
        release_free_memory()
    return float(gain), least


def render_cues(
    codec,
    mono,
    cues: np.ndarray,
    sampling_rate: int,
    sink: AudioSink,
    width: float = 1.0,
    peak: float | None = None,
    block_seconds: float = BLOCK_SECONDS,
    target_width_db: float | None = None,
) -> tuple[float, float]:
    """Render a spatial model's `cues (frames, bands, 2)` against `mono (samples,)` (an array or spool) into `sink`.

    `codec.side_blocks` makes the side block by block onto a spool; then the mid (the input) and the side (scaled
    by `width`) are written block by block, the side limited where L or R would pass the ceiling, as `render_song`
    does. With `target_width_db`, the side is first scaled so that the song's side-to-mid energy ratio is that
    width exactly (before `width` and the limiter): the cues say how the side is spread over bands and time, the
    target how much of it there is. `peak` is the input's peak when known. Returns `(gain, least side gain)` as
    `render_song` does.
    """
    from .spool import AudioSpool

    with AudioSpool(0) as side:
        side_energy = 0.0
        for _, part in codec.side_blocks(mono, cues, sampling_rate):
            side.append(part)
            side_energy += float(np.dot(part.astype(np.float64), part))
        scale = float(width)
        if target_width_db is not None:
            scale *= width_matching_gain(mono, side_energy, target_width_db, block_seconds, sampling_rate)
        return limit_into(mono, side, sampling_rate, sink, peak, block_seconds, side_scale=scale)


def width_matching_gain(
    mid, side_energy: float, target_width_db: float, block_seconds: float, sampling_rate: int
) -> float:
    """The gain on a side of energy `side_energy` that gives it `target_width_db` against `mid` (an array or
    spool, read a block at a time); 1 where there is no side or no mid to match."""
    block = block_length(sampling_rate, block_seconds)
    mid_energy = 0.0
    for start in range(0, len(mid), block):
        span = np.asarray(mid[start : start + block], dtype=np.float64)
        mid_energy += float(np.dot(span, span))
    if side_energy <= 0.0 or mid_energy <= 0.0:
        return 1.0
    return math.sqrt(10.0 ** (target_width_db / 10.0) * mid_energy / side_energy)


def limit_into(
    mid,
    side,
    sampling_rate: int,
    sink: AudioSink,
    peak: float | None = None,
    block_seconds: float = BLOCK_SECONDS,
    side_scale: float = 1.0,
) -> tuple[float, float]:
    """Write `mid +- side_scale * side` (arrays or spools, `(samples,)`) into `sink` block by block with the side
    limited.

    The one gain (`input_gain`) applies to both only when `mid` itself passes the ceiling (`peak` is its peak when
    known); returns `(gain, least side gain)`.
    """
    num_samples = len(mid)
    block = block_length(sampling_rate, block_seconds)
    if peak is None:
        peak = max(float(np.max(np.abs(mid[i : i + block]))) for i in range(0, num_samples, block))
    gain = np.float32(input_gain(peak))
    margin = 4 * lookahead_samples(sampling_rate)  # the limiter's gain depends on samples within 2 look-aheads
    least = 1.0
    for start in range(0, num_samples, block):
        stop = min(start + block, num_samples)
        first, last = max(0, start - margin), min(num_samples, stop + margin)
        mid_span = np.asarray(mid[first:last], dtype=np.float32) * gain
        side_span = np.asarray(side[first:last], dtype=np.float32) * np.float32(gain * side_scale)
        limiter = side_gain(mid_span, side_span, sampling_rate)
        keep = slice(start - first, stop - first)
        out = from_mid_side(mid_span[keep], limiter[keep] * side_span[keep])
        np.clip(out, -PEAK_CEILING, PEAK_CEILING, out=out)
        least = min(least, float(limiter[keep].min()))
        sink.write(out)
    return float(gain), least


__all__ = [
    "AudioSink",
    "ArraySink",
    "BLOCK_SECONDS",
    "block_margin",
    "block_length",
    "song_statistics",
    "render_song",
    "render_cues",
    "limit_into",
    "width_matching_gain",
]
