"""Reconstruction losses of the codec: multi-resolution STFT, log-mel L1 and waveform L1."""

from __future__ import annotations

import torch
from torch import nn
from transformers.audio_utils import mel_filter_bank

LOG_FLOOR = 1e-5


class MultiResolutionStftLoss(nn.Module):
    """Spectral convergence plus log-magnitude L1, averaged over several FFT sizes (hop = size / 4)."""

    def __init__(self, fft_sizes: list[int]) -> None:
        super().__init__()
        self.fft_sizes = list(fft_sizes)
        for size in self.fft_sizes:
            self.register_buffer(f"window_{size}", torch.hann_window(size), persistent=False)

    def magnitude(self, audio: torch.Tensor, size: int) -> torch.Tensor:
        """Magnitude spectrogram `(batch, bins, frames)` of audio `(batch, samples)`."""
        window = getattr(self, f"window_{size}")
        spectrum = torch.stft(audio, size, hop_length=size // 4, window=window, return_complex=True)
        return spectrum.abs().clamp(min=LOG_FLOOR)

    def forward(self, estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = estimate.new_zeros(())
        for size in self.fft_sizes:
            est, ref = self.magnitude(estimate, size), self.magnitude(target, size)
            convergence = torch.linalg.norm(ref - est, dim=(1, 2)) / torch.linalg.norm(ref, dim=(1, 2))
            total = total + convergence.mean() + (ref.log() - est.log()).abs().mean()
        return total / len(self.fft_sizes)


class LogMelSpectrogram(nn.Module):
    """Natural-log mel power spectrogram `(batch, bands, frames)` of audio `(batch, samples)`."""

    def __init__(self, sampling_rate: int, fft_size: int = 1024, num_bands: int = 64, hop_length: int | None = None):
        super().__init__()
        self.fft_size = fft_size
        self.hop_length = hop_length or fft_size // 4
        filters = mel_filter_bank(
            num_frequency_bins=fft_size // 2 + 1,
            num_mel_filters=num_bands,
            min_frequency=0.0,
            max_frequency=sampling_rate / 2,
            sampling_rate=sampling_rate,
            norm="slaney",
            mel_scale="slaney",
        )
        self.register_buffer("filters", torch.from_numpy(filters).float().t().contiguous(), persistent=False)
        self.register_buffer("window", torch.hann_window(fft_size), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spectrum = torch.stft(audio, self.fft_size, self.hop_length, window=self.window, return_complex=True)
        return (self.filters @ spectrum.abs().pow(2)).clamp(min=LOG_FLOOR).log()


class CodecReconstructionLoss(nn.Module):
    """The weighted sum of relative waveform L1, multi-resolution STFT and log-mel L1, with each term reported.

    The waveform L1 is divided by each target's mean absolute value, so quiet and loud crops weigh the same and the
    term is near 1 while the waveform is not matched at all (magnitude losses alone leave the phase free).
    """

    def __init__(
        self,
        sampling_rate: int,
        fft_sizes: list[int],
        mel_fft_size: int,
        mel_bands: int,
        weights: dict[str, float],
    ) -> None:
        super().__init__()
        self.stft = MultiResolutionStftLoss(fft_sizes)
        self.log_mel = LogMelSpectrogram(sampling_rate, mel_fft_size, mel_bands)
        self.weights = dict(weights)

    def forward(self, estimate: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and its terms for audio `(batch, samples)`."""
        terms = {
            "waveform_l1": ((estimate - target).abs().mean(-1) / target.abs().mean(-1).clamp(min=1e-6)).mean(),
            "stft": self.stft(estimate, target),
            "mel": (self.log_mel(estimate) - self.log_mel(target)).abs().mean(),
        }
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, {name: float(value.detach()) for name, value in terms.items()}
