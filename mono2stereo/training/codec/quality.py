"""Reconstruction quality of a codec: the round trip through its codes and the log-mel distance."""

from __future__ import annotations

import numpy as np
import torch
from transformers import EncodecModel

from .losses import LogMelSpectrogram


@torch.no_grad()
def codec_round_trip(codec: EncodecModel, audio: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Encode and decode mono float32 `(samples,)` at the codec's rate; returns the same length (zero-padded when
    the decoder's output falls a sample short, as it can for lengths that are not whole frames)."""
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio shaped (samples,), got {audio.shape}; code each channel separately")
    bandwidth = bandwidth if bandwidth is not None else float(max(codec.config.target_bandwidths))
    values = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, None]
    encoded = codec.encode(values, bandwidth=bandwidth, return_dict=True)
    decoded = codec.decode(encoded.audio_codes, encoded.audio_scales, return_dict=True).audio_values
    decoded = decoded[0, 0, : audio.shape[0]].numpy()
    return np.pad(decoded, (0, audio.shape[0] - decoded.shape[0]))


@torch.no_grad()
def log_mel_distance(estimate: np.ndarray, target: np.ndarray, sampling_rate: int) -> float:
    """Mean absolute difference of natural-log mel spectrograms (64 bands, 1024-point FFT) of two mono signals."""
    log_mel = LogMelSpectrogram(sampling_rate, fft_size=1024, num_bands=64)
    est = log_mel(torch.from_numpy(np.asarray(estimate, dtype=np.float32))[None])
    ref = log_mel(torch.from_numpy(np.asarray(target, dtype=np.float32))[None])
    return float((est - ref).abs().mean())
