"""A tiny random model for tests, debugging and benchmarks of the machinery (not of quality)."""

from __future__ import annotations

import torch

from .codec import randomize_codebooks, tiny_codec_config
from .configuration import Mono2StereoConfig
from .model import Mono2StereoModel


def tiny_config(**overrides) -> Mono2StereoConfig:
    """The config of `configs/model/tiny.json`: 8 kHz tiny codec, hidden 16, 2 + 2 layers; overrides win."""
    values = dict(
        codec=tiny_codec_config().to_dict(),
        hidden_size=16,
        num_encoder_layers=2,
        num_decoder_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        window_frames=50,
        dropout=0.0,
    )
    values.update(overrides)
    return Mono2StereoConfig(**values)


def tiny_model(seed: int = 0, **overrides) -> Mono2StereoModel:
    """A randomly initialised tiny model in eval mode whose codec has random (non-zero) codebooks."""
    torch.manual_seed(seed)
    model = Mono2StereoModel(tiny_config(**overrides)).eval()
    randomize_codebooks(model.codec, torch.Generator().manual_seed(seed))
    return model


__all__ = ["tiny_config", "tiny_model"]
