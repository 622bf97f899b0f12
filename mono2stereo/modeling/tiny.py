"""A tiny random model for tests, debugging and benchmarks of the machinery (not of quality)."""

from __future__ import annotations

import torch

from .codec import randomize_codebooks, tiny_codec_config
from .configuration import Mono2StereoConfig
from .model import Mono2StereoModel
from .spatial_codec import SpatialCodecConfig
from .spatial_rvq import ResidualCueQuantizer, mirror_closed_table, self_mirror_count


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


def tiny_rvq_codec_config(**overrides) -> SpatialCodecConfig:
    """`tiny_spatial_codec_config` with the `rvq` tokenizer: 3 stages of 16 entries."""
    return tiny_spatial_codec_config(**{"tokenizer": "rvq", "rvq_codebooks": 3, "rvq_size": 16, **overrides})


def randomize_rvq_tables(quantizer: ResidualCueQuantizer, generator: torch.Generator) -> ResidualCueQuantizer:
    """Give a quantizer random mirror-closed tables (self-mirror entries first, then mirrored pairs), as a fit
    would, each stage smaller than the one before."""
    stages, size, width = quantizer.tables.shape
    bands, own = width // 2, self_mirror_count(size)
    scale = 0.5 ** torch.arange(stages, dtype=torch.float32)[:, None, None]
    own_coherence = torch.rand(stages, own, bands, generator=generator)
    first = torch.randn(stages, (size - own) // 2, width, generator=generator)
    tables, mirror = mirror_closed_table(own_coherence, first[..., :bands], first[..., bands:])
    quantizer.set_tables(tables * scale, mirror.repeat(stages, 1))
    return quantizer


def tiny_model(seed: int = 0, spatial: bool = False, **overrides) -> Mono2StereoModel:
    """A randomly initialised tiny model in eval mode: EnCodec kind with random (non-zero) codebooks, or with
    `spatial=True` the spatial kind on `tiny_spatial_codec_config` (an `rvq` codec gets random tables)."""
    torch.manual_seed(seed)
    if spatial:
        overrides.setdefault("codec", tiny_spatial_codec_config().to_dict())
    model = Mono2StereoModel(tiny_config(**overrides)).eval()
    if not spatial:
        randomize_codebooks(model.codec, torch.Generator().manual_seed(seed))
    elif model.codec.rvq is not None:
        randomize_rvq_tables(model.codec.rvq, torch.Generator().manual_seed(seed))
    return model


__all__ = ["tiny_config", "tiny_model", "tiny_spatial_codec_config", "tiny_rvq_codec_config", "randomize_rvq_tables"]
