"""A tiny random model for tests, debugging and benchmarks of the machinery (not of quality)."""

from __future__ import annotations

import torch

from .codec import randomize_codebooks, tiny_codec_config
from .configuration import Mono2StereoConfig
from .model import Mono2StereoModel
from .spatial_codec import SpatialCodecConfig


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


def tiny_spatial_codec_config(**overrides) -> SpatialCodecConfig:
    """A small spatial codec (8 kHz, 40 frames/s, 8 bands, 12 feature bands) for tests and debugging."""
    values = dict(
        sampling_rate=8000,
        hop_length=200,
        frame_length=512,
        num_bands=8,
        num_feature_bands=12,
        highest_hz=3800.0,
        bands_per_delay=4,
        smoothing_frames=3,
    )
    values.update(overrides)
    return SpatialCodecConfig(**values)


def tiny_model(seed: int = 0, spatial: bool = False, **overrides) -> Mono2StereoModel:
    """A randomly initialised tiny model in eval mode: EnCodec kind with random (non-zero) codebooks, or with
    `spatial=True` the spatial kind on `tiny_spatial_codec_config`."""
    torch.manual_seed(seed)
    if spatial:
        overrides.setdefault("codec", tiny_spatial_codec_config().to_dict())
    model = Mono2StereoModel(tiny_config(**overrides)).eval()
    if not spatial:
        randomize_codebooks(model.codec, torch.Generator().manual_seed(seed))
    return model


__all__ = ["tiny_config", "tiny_model", "tiny_spatial_codec_config"]
