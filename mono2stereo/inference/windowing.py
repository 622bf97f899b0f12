"""Cutting a song into generation windows and joining their audio back with crossfades.

The song's `num_frames` codec frames are cut into `segments` contiguous segments generated side by side (one batch
row each). Inside a segment, windows of `window_frames` follow each other with `overlap_frames` in common: window
`i` continues from the last `overlap_frames` generated codes of window `i - 1` (its prefix), so the two agree on
the overlap and a crossfade there is seamless. Neighbouring segments are generated independently and only
crossfade over `overlap_frames` in the middle of their overlap. Window `i` of every segment is generated in one
batch, so memory depends on the batch, not on the song's length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowPlan:
    """Where each window of each segment starts, in codec frames; see the module docstring.

    Args:
        num_frames: codec frames of the song.
        window_frames: frames per window (the song's length when it fits in one window).
        overlap_frames: frames a window shares with the previous one of its segment, and the crossfade length.
        segment_starts: first frame of each segment.
        windows_per_segment: windows generated one after the other in each segment.
    """

    num_frames: int
    window_frames: int
    overlap_frames: int
    segment_starts: tuple[int, ...]
    windows_per_segment: int

    @property
    def step_frames(self) -> int:
        """Frames between the starts of consecutive windows of a segment."""
        return self.window_frames - self.overlap_frames

    @property
    def segment_frames(self) -> int:
        """Frames covered by one segment."""
        return self.window_frames + (self.windows_per_segment - 1) * self.step_frames

    @property
    def padded_frames(self) -> int:
        """Frames the windows cover: the song, plus silence after it when the last window runs past its end."""
        return max(self.num_frames, self.segment_starts[-1] + self.segment_frames)

    @property
    def num_segments(self) -> int:
        """Segments generated side by side."""
        return len(self.segment_starts)

    def window_start(self, segment: int, index: int) -> int:
        """First frame of window `index` of `segment`."""
        return self.segment_starts[segment] + index * self.step_frames

    def window_envelope(self, segment: int, index: int, hop_length: int) -> np.ndarray:
        """Crossfade gains `(window_frames * hop_length,)` of a window's audio; all windows' gains sum to one."""
        length = self.window_frames * hop_length
        envelope = np.ones(length, dtype=np.float64)
        fade = self.overlap_frames * hop_length
        start = self.window_start(segment, index)
        if index > 0:  # fade in over the frames shared with the previous window
            fade_in(envelope, 0, fade)
        elif segment > 0:  # fade in at the seam with the previous segment, nothing before it
            seam = self.seam_start(segment) - start
            envelope[: seam * hop_length] = 0.0
            fade_in(envelope, seam * hop_length, fade)
        if index < self.windows_per_segment - 1:
            fade_out(envelope, length - fade, fade)
        elif segment < self.num_segments - 1:  # fade out at the seam with the next segment, nothing after it
            seam = self.seam_start(segment + 1) - start
            fade_out(envelope, seam * hop_length, fade)
            envelope[(seam + self.overlap_frames) * hop_length :] = 0.0
        return envelope.astype(np.float32)

    def seam_start(self, segment: int) -> int:
        """First frame of the crossfade between `segment - 1` and `segment`, centred in their overlap."""
        overlap_start = self.segment_starts[segment]
        overlap_end = self.segment_starts[segment - 1] + self.segment_frames
        return overlap_start + (overlap_end - overlap_start - self.overlap_frames) // 2


def fade_in(envelope: np.ndarray, start: int, length: int) -> None:
    """Multiply `envelope[start:start + length]` by a raised-sine ramp from 0 to 1 (complement of `fade_out`)."""
    envelope[start : start + length] *= np.sin(np.pi / 2 * (np.arange(length) + 0.5) / length) ** 2


def fade_out(envelope: np.ndarray, start: int, length: int) -> None:
    """Multiply `envelope[start:start + length]` by a raised-cosine ramp from 1 to 0; with `fade_in` it sums to 1."""
    envelope[start : start + length] *= np.cos(np.pi / 2 * (np.arange(length) + 0.5) / length) ** 2


def plan_windows(num_frames: int, window_frames: int, overlap_frames: int, max_segments: int) -> WindowPlan:
    """Plan windows for a song of `num_frames` frames with at most `max_segments` segments side by side.

    The fewest windows per segment that cover the song are used, then the fewest segments; segments are spread
    evenly so neighbours overlap by at least `overlap_frames`.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames} must be at least 1")
    if max_segments < 1:
        raise ValueError(f"max_segments={max_segments} must be at least 1")
    if num_frames <= window_frames:
        return WindowPlan(num_frames, num_frames, 0, (0,), 1)
    if not 0 < overlap_frames < window_frames:
        raise ValueError(
            f"overlap of {overlap_frames} frames must be more than 0 and less than the window ({window_frames})"
        )
    step = window_frames - overlap_frames
    windows_in_sequence = math.ceil((num_frames - overlap_frames) / step)
    per_segment = math.ceil(windows_in_sequence / max_segments)
    segments = math.ceil(windows_in_sequence / per_segment)
    span = overlap_frames + per_segment * step
    if segments == 1:
        starts = (0,)
    else:
        starts = tuple(segment * (num_frames - span) // (segments - 1) for segment in range(segments))
    return WindowPlan(num_frames, window_frames, overlap_frames, starts, per_segment)


__all__ = ["WindowPlan", "plan_windows", "fade_in", "fade_out"]
