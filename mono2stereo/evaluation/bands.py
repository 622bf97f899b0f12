"""Short-time spectra grouped into perceptual (ERB-spaced) frequency bands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

LOWEST_BAND_HZ = 50.0
HIGHEST_BAND_HZ = 16000.0
FRAME_SECONDS = 0.046  # about 2048 samples at 44.1 kHz: a 21.5 Hz bin spacing resolves the lowest ERB bands


def frame_length_for(sampling_rate: int) -> int:
    """The analysis frame length in samples: the power of two closest to 46 ms."""
    return int(2 ** round(np.log2(FRAME_SECONDS * sampling_rate)))


def erb_number(frequency_hz: np.ndarray | float) -> np.ndarray:
    """Frequency on the ERB-number scale of Glasberg and Moore (1990), in Cams."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(frequency_hz, dtype=np.float64))


def frequency_from_erb_number(erb: np.ndarray | float) -> np.ndarray:
    """The inverse of `erb_number`, in Hz."""
    return (10.0 ** (np.asarray(erb, dtype=np.float64) / 21.4) - 1.0) / 0.00437


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
    highest = min(HIGHEST_BAND_HZ, 0.5 * sampling_rate)
    edges = frequency_from_erb_number(np.linspace(erb_number(LOWEST_BAND_HZ), erb_number(highest), num_bands + 1))
    bin_frequencies = np.fft.rfftfreq(frame_length, d=1.0 / sampling_rate)
    band_of_bin = np.searchsorted(edges, bin_frequencies, side="right") - 1
    membership = (band_of_bin[None, :] == np.arange(num_bands)[:, None]).astype(np.float32)
    keep = membership.sum(axis=1) > 0
    lower, upper = edges[:-1][keep], edges[1:][keep]
    return ErbBands(lower_hz=lower, upper_hz=upper, centres_hz=np.sqrt(lower * upper), membership=membership[keep])
