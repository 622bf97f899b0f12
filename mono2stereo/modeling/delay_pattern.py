"""The paired delay pattern: codebook pair k (kL, kR) is shifted k frames later.

In the delayed layout, position t holds frame `t - delay[c]` of codebook c, so the decoder predicts the coarse
codebooks of a frame before its finer ones, and L and R of the same level together. Positions that hold no frame are
filled with the special token.
"""

from __future__ import annotations

import torch


def stereo_delays(num_stereo_codebooks: int) -> list[int]:
    """Delays of the interleaved codebooks `[1L, 1R, 2L, 2R, ...]`: pair k is delayed by k frames."""
    if num_stereo_codebooks < 2 or num_stereo_codebooks % 2:
        raise ValueError(f"stereo codes need an even number of codebooks, got {num_stereo_codebooks}")
    return [c // 2 for c in range(num_stereo_codebooks)]


def delayed_length(num_frames: int, delays: list[int]) -> int:
    """Positions of the delayed layout of `num_frames` frames."""
    return num_frames + max(delays)


def delay_positions(delays: list[int], length: int, device: torch.device | None = None) -> torch.Tensor:
    """Frame index each delayed position holds, `(codebooks, length)`; negative or too large means none."""
    positions = torch.arange(length, device=device)[None, :]
    return positions - torch.tensor(delays, device=device)[:, None]


def valid_delay_mask(delays: list[int], num_frames: int | torch.Tensor, length: int) -> torch.Tensor:
    """True where a delayed position holds a real frame: `(codebooks, length)`, or `(batch, codebooks, length)`
    when `num_frames` is a tensor of per-example frame counts."""
    frame = delay_positions(delays, length, device=num_frames.device if torch.is_tensor(num_frames) else None)
    if torch.is_tensor(num_frames):
        return (frame[None] >= 0) & (frame[None] < num_frames[:, None, None])
    return (frame >= 0) & (frame < num_frames)


def apply_delay_pattern(codes: torch.Tensor, delays: list[int], special_token_id: int) -> torch.Tensor:
    """Shift codes `(batch, codebooks, frames)` into the delayed layout `(batch, codebooks, frames + max_delay)`."""
    batch, num_codebooks, num_frames = codes.shape
    if len(delays) != num_codebooks:
        raise ValueError(f"{len(delays)} delays for {num_codebooks} codebooks")
    length = delayed_length(num_frames, delays)
    delayed = codes.new_full((batch, num_codebooks, length), special_token_id)
    for c, delay in enumerate(delays):
        delayed[:, c, delay : delay + num_frames] = codes[:, c]
    return delayed


def revert_delay_pattern(delayed: torch.Tensor, delays: list[int]) -> torch.Tensor:
    """Undo `apply_delay_pattern`: `(batch, codebooks, length)` back to `(batch, codebooks, length - max_delay)`."""
    num_frames = delayed.shape[-1] - max(delays)
    if num_frames < 0:
        raise ValueError(f"a delayed sequence of {delayed.shape[-1]} positions is shorter than the delays {delays}")
    return torch.stack([delayed[:, c, delay : delay + num_frames] for c, delay in enumerate(delays)], dim=1)


__all__ = [
    "stereo_delays",
    "delayed_length",
    "delay_positions",
    "valid_delay_mask",
    "apply_delay_pattern",
    "revert_delay_pattern",
]
