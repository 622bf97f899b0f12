"""Smooth random quantiles for sampling a spatial model's cues: `decoding="quantile"`.

A token drawn by inverse CDF at a uniform quantile `u` follows the model's distribution whatever `u`'s neighbours
are, so the quantiles of neighbouring frames and bands can be made to move together without changing what each
token's distribution is. Independent quantiles (plain sampling) give cues that jump from frame to frame; a
quantile held still gives one statistic of the distribution (0.5: the median). Between the two, a field that
drifts over about `seconds` keeps a source on its side for a while, and a share `band_correlation` of it common to
the codebooks of one cue (all level differences, all coherences) moves the bands of a frame together, as one
source spanning several bands does.

Per codebook `c` of group `g`: `z_c(t) = sqrt(rho) * common_g(t) + sqrt(1 - rho) * own_c(t)`, each process a
stationary Gauss-Markov (AR(1)) sequence of unit variance whose correlation falls by `1/e` in `seconds`, and
`u_c(t) = Phi(z_c(t))`, uniform on (0, 1) at every frame.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.signal import lfilter


def gauss_markov(noise: np.ndarray, coefficient: float) -> np.ndarray:
    """Rows of a stationary AR(1) process of unit variance, `y[t] = a y[t-1] + sqrt(1 - a^2) n[t]`, started at
    `y[0] = n[0]`, from standard normal `noise (rows, frames)`."""
    gain = math.sqrt(1.0 - coefficient**2)
    start = noise[:, :1] * (1.0 - gain)  # lfilter's state that makes y[0] = n[0]
    return lfilter([gain], [1.0, -coefficient], noise, axis=-1, zi=start)[0]


def quantile_field(
    groups: torch.Tensor,
    num_frames: int,
    frame_rate: float,
    seconds: float,
    band_correlation: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Quantiles `(codebooks, num_frames)` in (0, 1), one row per entry of `groups (codebooks,)` (the group id of
    each codebook); see the module docstring. `seconds=0` gives independent frames, `band_correlation=0`
    independent codebooks. The draws come from `generator` (torch's global one when None)."""
    if seconds < 0 or not 0.0 <= band_correlation <= 1.0:
        raise ValueError(
            f"quantile field: seconds={seconds} must be >= 0 and band_correlation={band_correlation} in [0, 1]"
        )
    groups = torch.as_tensor(groups, dtype=torch.long).cpu()
    num_codebooks, num_groups = len(groups), int(groups.max()) + 1 if len(groups) else 0
    noise = torch.randn(num_codebooks + num_groups, max(num_frames, 1), generator=generator, dtype=torch.float64)
    coefficient = math.exp(-1.0 / (seconds * frame_rate)) if seconds > 0 else 0.0
    processes = gauss_markov(noise.numpy(), coefficient)[:, :num_frames]
    own, common = processes[:num_codebooks], processes[num_codebooks:]
    field = math.sqrt(1.0 - band_correlation) * own + math.sqrt(band_correlation) * common[groups.numpy()]
    quantiles = 0.5 * (1.0 + torch.special.erf(torch.from_numpy(field) / math.sqrt(2.0)))
    return quantiles.float().clamp_(1e-6, 1.0 - 1e-6)


def window_quantiles(field: torch.Tensor, starts: list[int], window_frames: int) -> torch.Tensor:
    """The quantiles `(rows, codebooks, window_frames)` of windows starting at `starts` (frames) of a song's
    `field (codebooks, frames)`; frames past the song's end get 0.5."""
    rows = torch.full((len(starts), field.shape[0], window_frames), 0.5, dtype=field.dtype)
    for row, start in enumerate(starts):
        part = field[:, start : start + window_frames]
        rows[row, :, : part.shape[-1]] = part
    return rows


__all__ = ["quantile_field", "window_quantiles", "gauss_markov"]
