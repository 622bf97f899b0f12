"""Rendering: turning the generated stereo and the input into the output stereo.

Three modes, all at the input's rate and length, all giving dual mono at `width=0`:

- `keep-mid` (default; `mid-side` is its old name, still accepted): `L, R = M + S, M - S` where `M` is the input
  itself and `S` is `width` times the side `(L - R) / 2` of the generated stereo, equalised per band and frame by the
  gain that takes the generated mid to the input: a codec colours the mid and the side it decodes alike (a small one
  loses 5-20 dB in some bands), and the input says by how much. A codec also shifts the phases of what it decodes, so
  a decoded side is in phase with the decoded mid but not with the input, and panned sources would come out diffuse:
  the share `KEEP_MID_COHERENT` of the side's part correlated with the generated mid (per band and frame, `alpha *
  mid`) is therefore rebuilt from the input (`alpha * M`) instead, and the side keeps its equalised energy. A codec
  that kept phase (generated mid = input) gets its side back unchanged, whatever the share. The fold-down `(L + R) /
  2` is the input exactly (to float rounding).
- `codec`: the generated stereo's own mid plus `width` times its side; at `width=1` the decoded L/R as generated.
- `parametric`: per band and frame, the generated stereo's side is described by its part correlated with its mid
  (`alpha`, which sets the level difference between L and R) and the energy of the rest (`beta`, which sets the
  coherence). The same cues are applied to the input: `S = width * (alpha * M + beta * D)`, where `D` is the input
  through a fixed decorrelation filter, equalised per band to the input's energy. The fold-down is again the input.

No side is favoured: the mono holds no cue to which side a source sits on, so a generated side that leans one way
over the whole song (a part correlated with the generated mid whose sign holds, per band) is a bias of the model,
not a placement: `side_lean` measures it and the `keep-mid` and `parametric` renders take it out (`lean`) before
anything else, so sources still move left and right of the centre as generated but the song does not lean. The
renders are mirror-symmetric: swapping the generated L and R swaps the output's (exactly in `keep-mid` and
`codec`; in `parametric` the level differences mirror and the decorrelated part, uncorrelated with the mid,
keeps its sign). Long songs are rendered in blocks (`block_render`), peaks are kept below the ceiling there
(`limiting`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio import PEAK_CEILING, fold, from_mid_side, mid_side
from ..dsp.bands import BandAnalysis
from ..dsp.decorrelators import decorrelate
from .render_modes import RENDER_MODES, render_mode

MAX_EQUALISATION_DB = 40.0  # the keep-mid render's equaliser's largest boost, where the generated mid is near silence
# Share of the generated side's correlated part that the keep-mid render rebuilds from the input. Chosen on held-out
# real songs (benchmarks/RESULTS.md, "Coherent side"): 0.25 lowers the ILD distance, 0.75 and more over-pan.
KEEP_MID_COHERENT = 0.25


def render_keep_mid(
    mono: np.ndarray,
    generated: np.ndarray,
    sampling_rate: int,
    width: float = 1.0,
    equalise: bool = True,
    coherent: float = KEEP_MID_COHERENT,
    lean: np.ndarray | None = None,
) -> np.ndarray:
    """Stereo `(samples, 2)` whose mid is `mono` and whose side is `width` times the generated stereo's side.

    With `equalise`, the side's energy is equalised per band and frame by `E[mono] / E[generated mid]` (a boost of
    at most `MAX_EQUALISATION_DB`), and the share `coherent` (0 to 1) of its part correlated with the generated mid
    is rebuilt from `mono`; see the module. Without, the side is taken as decoded. `lean` (per band, from
    `side_lean`) is the part of the generated side that follows the generated mid over the whole song; it is taken
    out first.
    """
    if not 0.0 <= coherent <= 1.0:
        raise ValueError(f"coherent={coherent} must be between 0 and 1")
    mid, side = mid_side(generated)
    if equalise or lean is not None:
        analysis = BandAnalysis(sampling_rate, mono.shape[0])
        side_spectrum = analysis.stft(side)
        generated_mid = analysis.stft(mid)
        if lean is not None:
            side_spectrum = side_spectrum - analysis.per_bin(torch.as_tensor(lean))[:, None] * generated_mid
            side = analysis.istft(side_spectrum)
    if equalise:
        spectrum = analysis.stft(mono)
        wanted = analysis.band_energy(spectrum.abs() ** 2)
        decoded = analysis.band_energy(generated_mid.abs() ** 2)
        side_energy = analysis.band_energy(side_spectrum.abs() ** 2)
        floor = analysis.floor(wanted, decoded, side_energy)
        power_gain = ((wanted + floor) / (decoded + floor)).clamp(max=10 ** (MAX_EQUALISATION_DB / 10))
        correlation = analysis.band_energy((side_spectrum * generated_mid.conj()).real) / (decoded + floor)
        # |alpha| <= 1 keeps sources between the speakers
        alpha = analysis.per_bin(coherent * correlation.clamp(-1.0, 1.0))
        # the share rebuilt from the input, and the equalised decoded side less that share
        side_spectrum = alpha * spectrum + analysis.per_bin(power_gain.sqrt()) * (
            side_spectrum - alpha * generated_mid
        )
        # the two parts add in phase only where the codec kept the phase: give the side the equalised energy
        target = power_gain * side_energy
        energy = analysis.band_energy(side_spectrum.abs() ** 2)
        side = analysis.istft(analysis.per_bin(((target + floor) / (energy + floor)).sqrt()) * side_spectrum)
    return from_mid_side(mono, width * side).astype(np.float32)


def render_codec(generated: np.ndarray, width: float = 1.0) -> np.ndarray:
    """The generated stereo with its side scaled by `width` (unchanged at `width=1`)."""
    if width == 1.0:
        return generated.astype(np.float32, copy=True)
    mid, side = mid_side(generated)
    return from_mid_side(mid, width * side).astype(np.float32)


def render_parametric(
    mono: np.ndarray,
    generated: np.ndarray,
    sampling_rate: int,
    width: float = 1.0,
    lean: np.ndarray | None = None,
    decorrelated: np.ndarray | None = None,
) -> np.ndarray:
    """Stereo whose mid is `mono` and whose side carries the generated stereo's per-band cues; see the module.

    `lean` as in `render_keep_mid`. `decorrelated` is `decorrelate(mono)` when the caller has it (a block of a
    longer song needs the filter's memory from before the block).
    """
    analysis = BandAnalysis(sampling_rate, mono.shape[0])
    spectrum = analysis.stft(mono)
    generated_mid, generated_side = (analysis.stft(signal) for signal in mid_side(generated))
    if lean is not None:
        generated_side = generated_side - analysis.per_bin(torch.as_tensor(lean))[:, None] * generated_mid
    decorrelated = analysis.stft(decorrelate(mono, sampling_rate) if decorrelated is None else decorrelated)
    # a fixed filter leaves some of the input in its output, and with one sign: that part would pan everything
    # to one side, so only the part of D uncorrelated with the input (per band and frame) is kept
    input_energy = analysis.band_energy(spectrum.abs() ** 2)
    leak = analysis.band_energy((decorrelated * spectrum.conj()).real) / (input_energy + analysis.floor(input_energy))
    decorrelated = decorrelated - analysis.per_bin(leak) * spectrum

    mid_energy = analysis.band_energy(generated_mid.abs() ** 2)
    side_energy = analysis.band_energy(generated_side.abs() ** 2)
    cross = analysis.band_energy((generated_side * generated_mid.conj()).real)
    floor = analysis.floor(mid_energy, side_energy)
    # |alpha| <= 1 keeps sources between the speakers; beta <= 1 keeps the diffuse part below the mid.
    alpha = (cross / (mid_energy + floor)).clamp(-1.0, 1.0)
    residual = (side_energy - alpha**2 * mid_energy).clamp(min=0.0)
    beta = (residual / (mid_energy + floor)).sqrt().clamp(max=1.0)
    equalise = (input_energy / (analysis.band_energy(decorrelated.abs() ** 2) + floor)).sqrt()

    side = width * (analysis.per_bin(alpha) * spectrum + analysis.per_bin(beta * equalise) * decorrelated)
    return from_mid_side(mono, analysis.istft(side)).astype(np.float32)


def side_lean(generated: np.ndarray, sampling_rate: int, frames: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Per band, the sums over the STFT `frames` of `Re(S M*)` and `|M|^2` of the generated stereo's side and mid.

    Their ratio (summed over every block of a song first) is the song's lean: the share of the generated mid that
    the generated side carries on average, positive towards the left.
    """
    analysis = BandAnalysis(sampling_rate, generated.shape[0])
    mid, side = (analysis.stft(signal)[:, frames] for signal in mid_side(generated))
    cross = (analysis.assignment @ (side * mid.conj()).real).sum(-1)
    energy = (analysis.assignment @ (mid.abs() ** 2)).sum(-1)
    return cross.numpy(), energy.numpy()


def lean_from_sums(cross: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """The per-band lean `cross / energy` (0 where a band is silent), within [-1, 1]."""
    floor = 1e-12 * max(float(energy.max()) if energy.size else 0.0, 1e-30)
    return np.clip(cross / (energy + floor), -1.0, 1.0)


def render_unlimited(
    mode: str,
    mono: np.ndarray,
    generated: np.ndarray,
    sampling_rate: int,
    width: float = 1.0,
    lean: np.ndarray | None = None,
    decorrelated: np.ndarray | None = None,
) -> np.ndarray:
    """Stereo `(samples, 2)` in `mode`, before peak safety; see `render`."""
    mode = render_mode(mode)
    if mode == "keep-mid":
        return render_keep_mid(mono, generated, sampling_rate, width, lean=lean)
    if mode == "codec":
        return render_codec(generated, width)
    if mode == "parametric":
        return render_parametric(mono, generated, sampling_rate, width, lean=lean, decorrelated=decorrelated)
    raise AssertionError(f"render mode {mode!r} has no renderer")  # render_mode knows only the modes above


def render_mid(mode: str, mono: np.ndarray, generated: np.ndarray) -> np.ndarray:
    """The output's mid in `mode`: the input, or in `codec` the generated mid."""
    return fold(generated) if mode == "codec" else mono


def render(
    mode: str, mono: np.ndarray, generated: np.ndarray, sampling_rate: int, width: float = 1.0
) -> tuple[np.ndarray, float]:
    """Render `(samples, 2)` stereo in `mode` from the input `mono` and the `generated` stereo, all in memory.

    Returns `(stereo, gain)`: `gain` (<= 1) is the one gain on both channels, used only when the output's mid
    itself would pass `PEAK_CEILING`; the side is limited where needed (`limiting.limit_side`). A long song is
    better rendered with `block_render.render_song`, which does the same in blocks.
    """
    from .block_render import ArraySink, render_song

    sink = ArraySink(mono.shape[0])
    gain, _ = render_song(mode, mono, generated, sampling_rate, sink, width)
    return sink.audio, gain


__all__ = [
    "RENDER_MODES",
    "PEAK_CEILING",
    "MAX_EQUALISATION_DB",
    "KEEP_MID_COHERENT",
    "render",
    "render_unlimited",
    "render_mid",
    "side_lean",
    "lean_from_sums",
    "render_keep_mid",
    "render_codec",
    "render_parametric",
]
