"""How polyphonic a stem is: the share of its sound that no single harmonic series explains.

Per analysis frame (128 ms at 16 kHz), the strongest spectral peaks between 30 Hz and 2.5 kHz are tried as a
fundamental; for each, the magnitude in the main lobes of its first `HARMONICS` harmonics is summed, and the best
candidate's share of the frame's spectral magnitude (30 Hz to 8 kHz) is how well one voice explains the frame. A stem's
polyphony is one minus the median of that share over its active frames: near 0 for one voice or instrument
playing single notes (a sung line, a bass line), about 0.5 and more for chords, drum kits and whole mixes.
`POLYPHONIC_ABOVE` is the line `mix` draws between the two.
"""

from __future__ import annotations

import numpy as np

from ..inference.resampling import resample

ANALYSIS_RATE = 16000
FRAME = 2048  # samples at ANALYSIS_RATE: 128 ms, 7.8 Hz bins
MAX_FRAMES = 400  # frames analysed at most, spread evenly over the stem
LOWEST_HZ, HIGHEST_F0_HZ, HIGHEST_HZ = 30.0, 2500.0, 8000.0
HARMONICS = 12
CANDIDATES = 6  # strongest peaks tried as the fundamental
PEAK_FLOOR_DB = -30.0  # a candidate peak is within this of the frame's strongest bin
ACTIVE_FLOOR_DB = -40.0  # frames this far below the loudest frame are left out
POLYPHONIC_ABOVE = 0.45
_LOBE = 2  # bins either side of a harmonic's peak that its Hann main lobe covers
_DETUNE = 0.015  # a harmonic is sought within 1.5 % (a quarter tone) of k times the fundamental


def _frames(audio: np.ndarray) -> np.ndarray:
    count = audio.shape[0] // FRAME
    if count == 0:
        return np.pad(audio, (0, FRAME - audio.shape[0]))[None]
    starts = np.linspace(0, (count - 1) * FRAME, min(count, MAX_FRAMES)).astype(int)
    return np.stack([audio[start : start + FRAME] for start in starts])


def _single_voice_share(power: np.ndarray, bin_hz: float) -> float:
    """The largest share of a frame's power `(bins,)` that the harmonics of one fundamental hold."""
    low, high = int(np.ceil(LOWEST_HZ / bin_hz)), int(HIGHEST_HZ / bin_hz)
    total = power[low:high].sum()
    f0_high = int(HIGHEST_F0_HZ / bin_hz)
    region = power[low:f0_high]
    is_peak = (region[1:-1] > region[:-2]) & (region[1:-1] >= region[2:])
    peaks = np.flatnonzero(is_peak) + low + 1
    peaks = peaks[power[peaks] >= power[low:high].max() * 10 ** (PEAK_FLOOR_DB / 10)]
    best = 0.0
    for peak in peaks[np.argsort(power[peaks])[::-1][:CANDIDATES]]:
        a, b, c = np.log(power[peak - 1 : peak + 2] + 1e-30)
        f0_bins = peak + 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else float(peak)  # parabolic peak
        claimed = np.zeros(power.shape[0], dtype=bool)
        for k in range(1, HARMONICS + 1):
            centre = k * f0_bins
            if centre >= high:
                break
            reach = 1 + int(_DETUNE * centre)
            start, stop = max(low, int(round(centre)) - reach), min(high, int(round(centre)) + reach + 1)
            if start >= stop:
                continue
            top = start + int(np.argmax(power[start:stop]))
            claimed[max(low, top - _LOBE) : min(high, top + _LOBE + 1)] = True
        best = max(best, float(power[claimed].sum() / total))
    return best


def polyphony(audio: np.ndarray, sampling_rate: int) -> float:
    """0 for a single voice, towards 1 for many at once: 1 minus the median single-voice share of active frames."""
    audio = resample(np.asarray(audio, dtype=np.float32), sampling_rate, ANALYSIS_RATE)
    frames = _frames(audio) * np.hanning(FRAME).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    magnitude = np.sqrt(power)
    bin_hz = ANALYSIS_RATE / FRAME
    band = power[:, int(np.ceil(LOWEST_HZ / bin_hz)) : int(HIGHEST_HZ / bin_hz)]
    energy = band.sum(axis=1)
    if energy.max() <= 1e-12:
        return 0.0  # silence: nothing to upmix
    active = energy >= energy.max() * 10 ** (ACTIVE_FLOOR_DB / 10)
    shares = [_single_voice_share(frame, bin_hz) for frame in magnitude[active]]
    return float(np.clip(1.0 - np.median(shares), 0.0, 1.0))


__all__ = ["POLYPHONIC_ABOVE", "polyphony"]
