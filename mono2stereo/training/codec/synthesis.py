"""Synthesised stereo clips for spectral coverage: noise bursts, sweeps, plucked strings and detuned saws."""

from __future__ import annotations

import math

import torch


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def _envelope(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """An attack-decay envelope with a random attack (1-50 ms) and decay (50 ms-2 s)."""
    t = torch.arange(num_samples) / sampling_rate
    attack = _uniform(generator, 0.001, 0.05)
    decay = math.exp(_uniform(generator, math.log(0.05), math.log(2.0)))
    return torch.clamp(t / attack, max=1.0) * torch.exp(-torch.clamp(t - attack, min=0.0) / decay)


def _one_pole_lowpass(audio: torch.Tensor, cutoff_hz: float, sampling_rate: int) -> torch.Tensor:
    """A zero-phase spectral low-pass with a 6 dB/octave slope above `cutoff_hz`."""
    spectrum = torch.fft.rfft(audio)
    frequencies = torch.fft.rfftfreq(audio.shape[-1], 1.0 / sampling_rate)
    return torch.fft.irfft(spectrum / torch.sqrt(1.0 + (frequencies / cutoff_hz) ** 2), n=audio.shape[-1])


def noise_burst(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """Band-limited noise under a percussive envelope."""
    noise = torch.randn(num_samples, generator=generator)
    cutoff = math.exp(_uniform(generator, math.log(300.0), math.log(sampling_rate / 2)))
    return _one_pole_lowpass(noise, cutoff, sampling_rate) * _envelope(num_samples, sampling_rate, generator)


def sine_sweep(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """An exponential sine sweep between two random frequencies."""
    nyquist = sampling_rate / 2
    start, stop = (math.exp(_uniform(generator, math.log(30.0), math.log(0.9 * nyquist))) for _ in range(2))
    t = torch.arange(num_samples, dtype=torch.float64) / sampling_rate
    duration = num_samples / sampling_rate
    rate = math.log(stop / start) / duration
    phase = 2 * math.pi * start * (torch.expm1(rate * t) / rate if abs(rate) > 1e-9 else t)
    return torch.sin(phase).float()


def plucked_string(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """A Karplus-Strong plucked string at a random pitch (40 Hz - 2 kHz)."""
    frequency = math.exp(_uniform(generator, math.log(40.0), math.log(2000.0)))
    period = max(2, round(sampling_rate / frequency))
    damping = _uniform(generator, 0.990, 0.9995)
    periods = -(-num_samples // period) + 1
    out = torch.empty(periods, period)
    out[0] = torch.rand(period, generator=generator) * 2 - 1
    for k in range(1, periods):  # each period is the previous one averaged with its one-sample shift
        previous = out[k - 1]
        shifted = torch.cat([previous[1:], out[k - 1, -1:]])
        out[k] = damping * 0.5 * (previous + shifted)
    return out.flatten()[:num_samples]


def detuned_saws(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """Three to seven sawtooths detuned around one pitch, through a low-pass."""
    frequency = math.exp(_uniform(generator, math.log(50.0), math.log(1000.0)))
    t = torch.arange(num_samples, dtype=torch.float64) / sampling_rate
    voices = int(torch.randint(3, 8, (), generator=generator))
    out = torch.zeros(num_samples, dtype=torch.float64)
    for _ in range(voices):
        f = frequency * 2 ** (_uniform(generator, -0.3, 0.3) / 12)
        out += 2 * torch.remainder(f * t + _uniform(generator, 0, 1), 1.0) - 1
    cutoff = math.exp(_uniform(generator, math.log(400.0), math.log(sampling_rate / 2)))
    return _one_pole_lowpass(out.float() / voices, cutoff, sampling_rate)


SOUNDS = (noise_burst, sine_sweep, plucked_string, detuned_saws)


def synthetic_stereo_clip(num_samples: int, sampling_rate: int, generator: torch.Generator) -> torch.Tensor:
    """One to four synthesised sounds, each panned and slightly delayed between channels: `(2, num_samples)`."""
    clip = torch.zeros(2, num_samples)
    for _ in range(int(torch.randint(1, 5, (), generator=generator))):
        sound = SOUNDS[int(torch.randint(len(SOUNDS), (), generator=generator))]
        start = int(torch.randint(0, num_samples // 2 + 1, (), generator=generator))
        length = num_samples - start
        signal = sound(length, sampling_rate, generator)
        if sound is not noise_burst:
            signal = (
                signal * _envelope(length, sampling_rate, generator) if _uniform(generator, 0, 1) < 0.7 else signal
            )
        signal = signal / signal.abs().max().clamp(min=1e-6) * _uniform(generator, 0.2, 1.0)
        pan = _uniform(generator, 0.0, math.pi / 2)
        delay = int(torch.randint(0, int(0.001 * sampling_rate) + 1, (), generator=generator))
        left = signal * math.cos(pan)
        right = torch.nn.functional.pad(signal * math.sin(pan), (delay, 0))[:length]
        clip[0, start:] += left
        clip[1, start:] += right
    return clip
