"""Rendering: turning the generated stereo and the input into the output stereo.

Three modes, all at the input's rate and length, all giving dual mono at `width=0`:

- `mid-side` (default): `L, R = M + S, M - S` where `M` is the input itself and `S` is `width` times the side
  `(L - R) / 2` of the generated stereo, equalised per band and frame by the gain that takes the generated mid to
  the input: a codec colours the mid and the side it decodes alike (a small one loses 5-20 dB in some bands), and
  the input says by how much. A codec also shifts the phases of what it decodes, so a decoded side is in phase
  with the decoded mid but not with the input, and panned sources would come out diffuse: the share
  `MID_SIDE_COHERENT` of the side's part correlated with the generated mid (per band and frame, `alpha * mid`) is
  therefore rebuilt from the input (`alpha * M`) instead, and the side keeps its equalised energy. A codec that
  kept phase (generated mid = input) gets its side back unchanged, whatever the share. The fold-down
  `(L + R) / 2` is the input exactly (to float rounding).
- `codec`: the generated stereo's own mid plus `width` times its side; at `width=1` the decoded L/R as generated.
- `parametric`: per band and frame, the generated stereo's side is described by its part correlated with its mid
  (`alpha`, which sets the level difference between L and R) and the energy of the rest (`beta`, which sets the
  coherence). The same cues are applied to the input: `S = width * (alpha * M + beta * D)`, where `D` is the input
  through a fixed decorrelation filter, equalised per band to the input's energy. The fold-down is again the input.

Peak safety: if any sample of L or R would exceed `PEAK_CEILING`, both channels are scaled by one gain, so the
mid/side balance is unchanged and the fold-down is the input times that gain; the gain is returned.
"""

from __future__ import annotations

import numpy as np
import torch

RENDER_MODES = ("mid-side", "codec", "parametric")
PEAK_CEILING = 0.999
DECORRELATOR_DECAY_SECONDS = 0.01  # noise-burst time constant: long enough to decorrelate, short to not smear
ANALYSIS_SECONDS = 0.04  # STFT window of the parametric mode
SMOOTHING_FRAMES = 5  # moving average of the band energies over time, in STFT hops (~50 ms)
ERB_PER_BAND = 1.5
MAX_EQUALISATION_DB = 40.0  # the mid-side equaliser's largest boost, where the generated mid is near silence
# Share of the generated side's correlated part that the mid-side render rebuilds from the input. Chosen on held-out
# real songs (benchmarks/RESULTS.md, "Coherent side"): 0.25 lowers the ILD distance, 0.75 and more over-pan.
MID_SIDE_COHERENT = 0.25


def peak_gain(stereo: np.ndarray, ceiling: float = PEAK_CEILING) -> float:
    """The gain (<= 1) that keeps every sample of `stereo` within `ceiling` of full scale."""
    peak = float(np.max(np.abs(stereo))) if stereo.size else 0.0
    return 1.0 if peak <= ceiling else ceiling / peak


def render_mid_side(
    mono: np.ndarray,
    generated: np.ndarray,
    sampling_rate: int,
    width: float = 1.0,
    equalise: bool = True,
    coherent: float = MID_SIDE_COHERENT,
) -> np.ndarray:
    """Stereo `(samples, 2)` whose mid is `mono` and whose side is `width` times the generated stereo's side.

    With `equalise`, the side's energy is equalised per band and frame by `E[mono] / E[generated mid]` (a boost of
    at most `MAX_EQUALISATION_DB`), and the share `coherent` (0 to 1) of its part correlated with the generated mid
    is rebuilt from `mono`; see the module. Without, the side is taken as decoded.
    """
    if not 0.0 <= coherent <= 1.0:
        raise ValueError(f"coherent={coherent} must be between 0 and 1")
    side = (generated[:, 0] - generated[:, 1]) / 2
    if equalise:
        analysis = _BandAnalysis(sampling_rate, mono.shape[0])
        spectrum, side_spectrum = analysis.stft(mono), analysis.stft(side)
        generated_mid = analysis.stft((generated[:, 0] + generated[:, 1]) / 2)
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
    side = width * side
    return np.stack([mono + side, mono - side], axis=1).astype(np.float32)


def render_codec(generated: np.ndarray, width: float = 1.0) -> np.ndarray:
    """The generated stereo with its side scaled by `width` (unchanged at `width=1`)."""
    if width == 1.0:
        return generated.astype(np.float32, copy=True)
    side = width * (generated[:, 0] - generated[:, 1]) / 2
    mid = (generated[:, 0] + generated[:, 1]) / 2
    return np.stack([mid + side, mid - side], axis=1).astype(np.float32)


def erb_band_index(frequencies: np.ndarray, nyquist: float, erb_per_band: float = ERB_PER_BAND) -> np.ndarray:
    """Band of each frequency: bands `erb_per_band` wide on the ERB-rate scale between 0 Hz and `nyquist`."""

    def erb_rate(f):
        return 21.4 * np.log10(1 + 0.00437 * np.asarray(f, dtype=np.float64))

    num_bands = max(1, int(erb_rate(nyquist) / erb_per_band))
    return np.minimum((erb_rate(frequencies) / erb_rate(nyquist) * num_bands).astype(np.int64), num_bands - 1)


def decorrelation_filter(sampling_rate: int, decay_seconds: float = DECORRELATOR_DECAY_SECONDS) -> np.ndarray:
    """A fixed exponentially decaying noise burst of unit energy; convolving with it decorrelates a signal."""
    length = max(8, int(4 * decay_seconds * sampling_rate))
    time = np.arange(length) / sampling_rate
    burst = np.random.default_rng(0).standard_normal(length) * np.exp(-time / decay_seconds)
    return burst / np.sqrt(np.sum(burst**2))


def decorrelate(audio: np.ndarray, sampling_rate: int) -> np.ndarray:
    """`audio` convolved with `decorrelation_filter` (FFT convolution), trimmed to its length."""
    impulse = decorrelation_filter(sampling_rate)
    size = audio.shape[0] + impulse.shape[0] - 1
    spectrum = np.fft.rfft(audio.astype(np.float64), size) * np.fft.rfft(impulse, size)
    return np.fft.irfft(spectrum, size)[: audio.shape[0]].astype(np.float32)


class _BandAnalysis:
    """STFT (`ANALYSIS_SECONDS` windows, 75 % overlap) and ERB-band energies smoothed over `SMOOTHING_FRAMES`."""

    def __init__(self, sampling_rate: int, num_samples: int):
        self.num_samples = num_samples
        self.n_fft = max(64, 2 ** round(np.log2(ANALYSIS_SECONDS * sampling_rate)))
        self.hop = self.n_fft // 4
        self.window = torch.hann_window(self.n_fft, dtype=torch.float64)
        self.pad = max(0, self.n_fft - num_samples)  # torch.stft needs at least one window of audio
        frequencies = np.fft.rfftfreq(self.n_fft, 1 / sampling_rate)
        self.bands = torch.from_numpy(erb_band_index(frequencies, sampling_rate / 2))
        num_bands = int(self.bands.max()) + 1
        self.assignment = torch.nn.functional.one_hot(self.bands, num_bands).T.to(torch.float64)  # (bands, bins)

    def stft(self, signal: np.ndarray) -> torch.Tensor:
        signal = torch.from_numpy(np.pad(np.asarray(signal, dtype=np.float64), (0, self.pad)))
        return torch.stft(signal, self.n_fft, self.hop, window=self.window, return_complex=True)  # (bins, frames)

    def istft(self, spectrum: torch.Tensor) -> np.ndarray:
        length = self.num_samples + self.pad
        return torch.istft(spectrum, self.n_fft, self.hop, window=self.window, length=length)[
            : self.num_samples
        ].numpy()

    def band_energy(self, values: torch.Tensor) -> torch.Tensor:
        """`(bins, frames)` to `(bands, frames)`, smoothed over time."""
        energy = self.assignment @ values
        smoothed = torch.nn.functional.avg_pool1d(
            energy[:, None], SMOOTHING_FRAMES, stride=1, padding=SMOOTHING_FRAMES // 2, count_include_pad=False
        )
        return smoothed[:, 0, : energy.shape[-1]]

    def per_bin(self, per_band: torch.Tensor) -> torch.Tensor:
        """`(bands, frames)` to `(bins, frames)`: each bin takes its band's value."""
        return per_band[self.bands]

    @staticmethod
    def floor(*energies: torch.Tensor) -> float:
        """A tiny energy that keeps ratios finite: 1e-12 of the largest band energy."""
        return 1e-12 * max(max(float(energy.max()) for energy in energies), 1e-30)


def render_parametric(mono: np.ndarray, generated: np.ndarray, sampling_rate: int, width: float = 1.0) -> np.ndarray:
    """Stereo whose mid is `mono` and whose side carries the generated stereo's per-band cues; see the module."""
    analysis = _BandAnalysis(sampling_rate, mono.shape[0])
    spectrum = analysis.stft(mono)
    generated_mid = analysis.stft((generated[:, 0] + generated[:, 1]) / 2)
    generated_side = analysis.stft((generated[:, 0] - generated[:, 1]) / 2)
    decorrelated = analysis.stft(decorrelate(mono, sampling_rate))

    mid_energy = analysis.band_energy(generated_mid.abs() ** 2)
    side_energy = analysis.band_energy(generated_side.abs() ** 2)
    cross = analysis.band_energy((generated_side * generated_mid.conj()).real)
    floor = analysis.floor(mid_energy, side_energy)
    # |alpha| <= 1 keeps sources between the speakers; beta <= 1 keeps the diffuse part below the mid.
    alpha = (cross / (mid_energy + floor)).clamp(-1.0, 1.0)
    residual = (side_energy - alpha**2 * mid_energy).clamp(min=0.0)
    beta = (residual / (mid_energy + floor)).sqrt().clamp(max=1.0)
    equalise = (
        analysis.band_energy(spectrum.abs() ** 2) / (analysis.band_energy(decorrelated.abs() ** 2) + floor)
    ).sqrt()

    side = width * (analysis.per_bin(alpha) * spectrum + analysis.per_bin(beta * equalise) * decorrelated)
    side = analysis.istft(side)
    return np.stack([mono + side, mono - side], axis=1).astype(np.float32)


def render(
    mode: str, mono: np.ndarray, generated: np.ndarray, sampling_rate: int, width: float = 1.0
) -> tuple[np.ndarray, float]:
    """Render `(samples, 2)` stereo in `mode` from the input `mono` and the `generated` stereo; returns (stereo, gain).

    `gain` (<= 1) is the peak-safety gain applied to both channels (1.0 when none was needed).
    """
    if mode == "mid-side":
        stereo = render_mid_side(mono, generated, sampling_rate, width)
    elif mode == "codec":
        stereo = render_codec(generated, width)
    elif mode == "parametric":
        stereo = render_parametric(mono, generated, sampling_rate, width)
    else:
        raise ValueError(f"unknown render mode {mode!r}; choose one of {', '.join(RENDER_MODES)}")
    gain = peak_gain(stereo)
    if gain < 1.0:
        stereo *= np.float32(gain)
    return stereo, gain


__all__ = [
    "RENDER_MODES",
    "PEAK_CEILING",
    "MAX_EQUALISATION_DB",
    "MID_SIDE_COHERENT",
    "peak_gain",
    "render",
    "render_mid_side",
    "render_codec",
    "render_parametric",
    "decorrelate",
    "decorrelation_filter",
    "erb_band_index",
]
