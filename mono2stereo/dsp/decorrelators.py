"""Filters that turn a mono signal into one uncorrelated with it: all-pass cascades (energy kept, phase changed) for
the DSP upmixers and the spatial codec, and a fixed noise burst for the parametric render."""

from __future__ import annotations

import numpy as np
from scipy import signal

# Schroeder all-pass sections: mutually prime delays so their echoes do not line up.
SCHROEDER_DELAYS_MS = (5.3, 7.9, 11.3, 13.1)
SCHROEDER_GAIN = 0.6
SCHROEDER_RESPONSE_SECONDS = 0.25  # the echoes have decayed below -70 dB by then

# Phase network: second-order all-pass sections at log-spaced centre frequencies.
PHASE_NETWORK_CENTRES_HZ = (120.0, 380.0, 1200.0, 3800.0, 12000.0)
PHASE_NETWORK_Q = 0.7

DECORRELATOR_DECAY_SECONDS = 0.01  # noise-burst time constant: long enough to decorrelate, short to not smear


def schroeder_allpass_response(sampling_rate: int) -> np.ndarray:
    """Impulse response of a cascade of Schroeder all-pass sections, H(z) = (-g + z^-D) / (1 - g z^-D)."""
    impulse = np.zeros(int(SCHROEDER_RESPONSE_SECONDS * sampling_rate))
    impulse[0] = 1.0
    response = impulse
    for delay_ms in SCHROEDER_DELAYS_MS:
        delay = max(1, round(delay_ms * 1e-3 * sampling_rate))
        numerator = np.zeros(delay + 1)
        numerator[0], numerator[-1] = -SCHROEDER_GAIN, 1.0
        denominator = np.zeros(delay + 1)
        denominator[0], denominator[-1] = 1.0, -SCHROEDER_GAIN
        response = signal.lfilter(numerator, denominator, response)
    return response


def schroeder_allpass(audio: np.ndarray, sampling_rate: int, dtype: type = np.float64) -> np.ndarray:
    """`(n,)` audio through the Schroeder all-pass cascade, same length, computed in `dtype` (float32 is about
    four times faster and enough for a decorrelated copy that is mixed in below the direct sound)."""
    response = schroeder_allpass_response(sampling_rate).astype(dtype)
    return signal.oaconvolve(audio.astype(dtype), response)[: len(audio)]


def phase_network_sections(sampling_rate: int) -> np.ndarray:
    """Second-order sections of a cascade of all-pass filters, one per centre frequency below Nyquist."""
    sections = []
    for centre_hz in PHASE_NETWORK_CENTRES_HZ:
        if centre_hz >= 0.45 * sampling_rate:
            continue
        # A biquad all-pass (RBJ cookbook form): numerator is the reversed denominator.
        omega = 2.0 * np.pi * centre_hz / sampling_rate
        alpha = np.sin(omega) / (2.0 * PHASE_NETWORK_Q)
        denominator = np.array([1.0 + alpha, -2.0 * np.cos(omega), 1.0 - alpha])
        denominator /= denominator[0]
        sections.append(np.concatenate([denominator[::-1], denominator]))
    return np.array(sections)


def phase_network(audio: np.ndarray, sampling_rate: int) -> np.ndarray:
    """`(n,)` audio through the all-pass phase network, same length."""
    return signal.sosfilt(phase_network_sections(sampling_rate), audio.astype(np.float64))


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
