"""Short-time spectra grouped into perceptual (ERB-spaced) frequency bands: the one ERB scale of mono2stereo.

Bands are equally spaced on the ERB-number scale (`band_edges_hz`) and a bin belongs to the band its frequency falls
in (`band_of_bins`). Two analyses use them: `erb_bands` and `short_time_spectrum` (46 ms frames, half overlap; the
spatial metrics, the corpus checks), and `BandAnalysis` (40 ms frames, 75 % overlap, band energies smoothed over
time; the renders). The spatial codec's cue bands are the same kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import signal

LOWEST_BAND_HZ = 50.0
HIGHEST_BAND_HZ = 16000.0
FRAME_SECONDS = 0.046  # about 2048 samples at 44.1 kHz: a 21.5 Hz bin spacing resolves the lowest ERB bands
ANALYSIS_SECONDS = 0.04  # the renders' STFT window
SMOOTHING_FRAMES = 5  # the renders' moving average of band energies over time, in STFT hops (~50 ms)
ERB_PER_BAND = 1.5  # the renders' band width, in Cams
ENERGY_FLOOR = 1e-20  # band energies are sums of |STFT|^2: about n_fft^2 / 8 per band at full scale


def frame_length_for(sampling_rate: int) -> int:
    """The analysis frame length in samples: the power of two closest to 46 ms."""
    return int(2 ** round(np.log2(FRAME_SECONDS * sampling_rate)))


def erb_number(frequency_hz: np.ndarray | float) -> np.ndarray:
    """Frequency on the ERB-number scale of Glasberg and Moore (1990), in Cams."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(frequency_hz, dtype=np.float64))


def frequency_from_erb_number(erb: np.ndarray | float) -> np.ndarray:
    """The inverse of `erb_number`, in Hz."""
    return (10.0 ** (np.asarray(erb, dtype=np.float64) / 21.4) - 1.0) / 0.00437


def band_edges_hz(num_bands: int, lowest_hz: float, highest_hz: float) -> np.ndarray:
    """`num_bands + 1` edges equally spaced on the ERB-number scale."""
    return frequency_from_erb_number(np.linspace(erb_number(lowest_hz), erb_number(highest_hz), num_bands + 1))


def band_of_bins(frequencies: np.ndarray, edges: np.ndarray, clip: bool = True) -> np.ndarray:
    """Band index of each frequency; those below the first edge or above the last go to the first or last band
    (`clip`), or get -1 and `len(edges) - 1`, no band (`clip=False`)."""
    index = np.searchsorted(edges, frequencies, side="right") - 1
    return np.clip(index, 0, len(edges) - 2) if clip else index


def erb_band_index(frequencies: np.ndarray, nyquist: float, erb_per_band: float = ERB_PER_BAND) -> np.ndarray:
    """Band of each frequency: bands `erb_per_band` wide on the ERB-rate scale between 0 Hz and `nyquist`."""
    num_bands = max(1, int(erb_number(nyquist) / erb_per_band))
    return band_of_bins(frequencies, band_edges_hz(num_bands, 0.0, nyquist)).astype(np.int64)


def short_time_spectrum(audio: np.ndarray, sampling_rate: int, frame_length: int | None = None) -> np.ndarray:
    """Complex STFT of mono `(n,)` or multichannel `(n, c)` audio: `(bins, frames)` or `(c, bins, frames)`."""
    frame_length = frame_length or frame_length_for(sampling_rate)
    channels_first = np.asarray(audio, dtype=np.float32).T
    _, _, spectrum = signal.stft(
        channels_first, nperseg=frame_length, noverlap=frame_length // 2, boundary=None, padded=True, axis=-1
    )
    return spectrum.astype(np.complex64)


@dataclass(frozen=True)
class ErbBands:
    """A grouping of STFT bins into ERB-spaced bands."""

    lower_hz: np.ndarray  # (num_bands,)
    upper_hz: np.ndarray  # (num_bands,)
    centres_hz: np.ndarray  # (num_bands,) geometric mean of the edges
    membership: np.ndarray  # (num_bands, num_bins) of 0/1: bin b belongs to band k

    @property
    def num_bands(self) -> int:
        """How many bands there are."""
        return len(self.centres_hz)

    def group(self, per_bin: np.ndarray) -> np.ndarray:
        """Sum a `(bins, frames)` array within each band: `(bands, frames)`."""
        return self.membership @ per_bin


def erb_bands(sampling_rate: int, frame_length: int | None = None, num_bands: int = 32) -> ErbBands:
    """Bands equally spaced on the ERB scale from 50 Hz to 16 kHz (or Nyquist); bands without a bin are dropped."""
    frame_length = frame_length or frame_length_for(sampling_rate)
    edges = band_edges_hz(num_bands, LOWEST_BAND_HZ, min(HIGHEST_BAND_HZ, 0.5 * sampling_rate))
    band_of_bin = band_of_bins(np.fft.rfftfreq(frame_length, d=1.0 / sampling_rate), edges, clip=False)
    membership = (band_of_bin[None, :] == np.arange(num_bands)[:, None]).astype(np.float32)
    keep = membership.sum(axis=1) > 0
    lower, upper = edges[:-1][keep], edges[1:][keep]
    return ErbBands(lower_hz=lower, upper_hz=upper, centres_hz=np.sqrt(lower * upper), membership=membership[keep])


class BandAnalysis:
    """STFT (`ANALYSIS_SECONDS` windows, 75 % overlap, float64) and ERB-band energies smoothed over
    `SMOOTHING_FRAMES`, of signals `num_samples` long: the analysis of the renders."""

    def __init__(self, sampling_rate: int, num_samples: int):
        self.num_samples = num_samples
        self.n_fft = self.fft_size(sampling_rate)
        self.hop = self.n_fft // 4
        self.window = torch.hann_window(self.n_fft, dtype=torch.float64)
        self.pad = max(0, self.n_fft - num_samples)  # torch.stft needs at least one window of audio
        frequencies = np.fft.rfftfreq(self.n_fft, 1 / sampling_rate)
        self.bands = torch.from_numpy(erb_band_index(frequencies, sampling_rate / 2))
        num_bands = int(self.bands.max()) + 1
        self.assignment = torch.nn.functional.one_hot(self.bands, num_bands).T.to(torch.float64)  # (bands, bins)

    @staticmethod
    def fft_size(sampling_rate: int) -> int:
        """The STFT length: the power of two nearest `ANALYSIS_SECONDS` (at least 64); the hop is a quarter."""
        return max(64, 2 ** round(np.log2(ANALYSIS_SECONDS * sampling_rate)))

    def stft(self, audio: np.ndarray) -> torch.Tensor:
        """The complex spectrum `(bins, frames)` of `(num_samples,)` audio."""
        audio = torch.from_numpy(np.pad(np.asarray(audio, dtype=np.float64), (0, self.pad)))
        return torch.stft(audio, self.n_fft, self.hop, window=self.window, return_complex=True)

    def istft(self, spectrum: torch.Tensor) -> np.ndarray:
        """`(num_samples,)` audio from a spectrum `(bins, frames)` of `stft`'s shape."""
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
        """A tiny energy that keeps ratios finite: that of a band at -200 dB of full scale.

        A fixed one, not one relative to the loudest band, so a block of a song gets the floor of the whole song.
        """
        return ENERGY_FLOOR
