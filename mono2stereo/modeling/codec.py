"""The codec adapter: audio to EnCodec codes and back, one mono channel at a time (layouts: `encodec_layouts`)."""

from __future__ import annotations

import torch
from transformers import EncodecConfig, EncodecModel


def num_frames(num_samples: int, hop_length: int) -> int:
    """Codec frames that cover `num_samples` samples (the codec pads the last frame)."""
    return -(-num_samples // hop_length)


@torch.no_grad()
def encode_mono(codec: EncodecModel, audio: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Encode mono audio `(batch, samples)` at the codec's rate into codes `(batch, codebooks, frames)`."""
    if audio.dim() != 2:
        raise ValueError(f"expected audio shaped (batch, samples), got {tuple(audio.shape)}")
    dtype = next(codec.parameters()).dtype
    encoded = codec.encode(audio[:, None, :].to(dtype), bandwidth=bandwidth, return_dict=True)
    # One chunk: audio_codes is (1, batch, codebooks, frames).
    return encoded.audio_codes[0]


@torch.no_grad()
def decode_mono(codec: EncodecModel, codes: torch.Tensor, num_samples: int | None = None) -> torch.Tensor:
    """Decode codes `(batch, codebooks, frames)` into mono audio `(batch, samples)`, trimmed to `num_samples`."""
    if codes.dim() != 3:
        raise ValueError(f"expected codes shaped (batch, codebooks, frames), got {tuple(codes.shape)}")
    audio = codec.decode(codes[None], [None], return_dict=True).audio_values[:, 0]
    if num_samples is not None:
        audio = audio[:, :num_samples]
    return audio.float()


def interleave_channels(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Interleave per-channel codes `(batch, K, frames)` into the stereo layout `[1L, 1R, 2L, 2R, ...]`."""
    return torch.stack([left, right], dim=2).flatten(1, 2)


def split_channels(stereo_codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split interleaved stereo codes `(batch, 2K, frames)` into left and right `(batch, K, frames)`."""
    return stereo_codes[:, 0::2], stereo_codes[:, 1::2]


def tiny_codec_config(**overrides) -> EncodecConfig:
    """A small EnCodec config (8 kHz, 500 Hz frames, 2 codebooks of 32) for tests and debugging."""
    values = dict(
        sampling_rate=8000,
        upsampling_ratios=[4, 4],
        num_filters=4,
        hidden_size=16,
        codebook_size=32,
        codebook_dim=16,
        num_lstm_layers=1,
        num_residual_layers=1,
        target_bandwidths=[5.0],  # 2 codebooks x log2(32) bits x 500 Hz
        use_causal_conv=False,
        use_conv_shortcut=False,
    )
    values.update(overrides)
    return EncodecConfig(**values)


@torch.no_grad()
def randomize_codebooks(codec: EncodecModel, generator: torch.Generator | None = None) -> EncodecModel:
    """Give an untrained codec random codebooks, so its codes are not all zero (as they are at init)."""
    for layer in codec.quantizer.layers:
        embed = layer.codebook.embed
        embed.copy_(torch.randn(embed.shape, generator=generator) * 0.5)
        layer.codebook.embed_avg.copy_(embed)
    return codec


__all__ = [
    "num_frames",
    "encode_mono",
    "decode_mono",
    "interleave_channels",
    "split_channels",
    "tiny_codec_config",
    "randomize_codebooks",
]
