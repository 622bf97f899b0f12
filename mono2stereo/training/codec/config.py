"""`CodecTrainingConfig`: the codec's `EncodecConfig` and every setting of its training, read from one YAML file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import EncodecConfig


@dataclass
class QuantizerSettings:
    """How the residual VQ codebooks are learned."""

    decay: float = 0.99
    epsilon: float = 1e-5
    dead_code_threshold: float = 0.02
    kmeans_iterations: int = 20
    kmeans_init_crops: int = 64


@dataclass
class LossSettings:
    """Weights and shapes of the reconstruction losses."""

    waveform_l1: float = 1.0
    stft: float = 1.0
    stft_fft_sizes: list[int] = field(default_factory=lambda: [256, 512, 1024, 2048])
    mel: float = 1.0
    mel_bands: int = 64
    mel_fft_size: int = 1024
    commitment: float = 1.0


@dataclass
class OptimisationSettings:
    """The optimiser, schedule, batch and checkpointing."""

    seed: int = 0
    crop_seconds: float = 1.0
    batch_size: int = 8
    max_steps: int = 2400
    learning_rate: float = 5e-4
    betas: list[float] = field(default_factory=lambda: [0.8, 0.99])
    weight_decay: float = 0.0
    warmup_steps: int = 100
    final_learning_rate_fraction: float = 0.1
    grad_clip_norm: float = 1.0
    checkpoint_every: int = 100
    log_every: int = 10
    num_threads: int = 1


@dataclass
class DataSettings:
    """The training audio: General-MIDI renders and synthesised clips."""

    cache_dir: str = "outputs/codec-data"
    midi_pieces: int = 48
    midi_piece_seconds: float = 15.0
    synthetic_fraction: float = 0.3
    view_weights: dict[str, float] = field(
        default_factory=lambda: {"left": 0.3, "right": 0.3, "mid": 0.3, "side": 0.1}
    )
    level_db_range: list[float] = field(default_factory=lambda: [-32.0, -10.0])


VIEWS = ("left", "right", "mid", "side")


@dataclass
class CodecTrainingConfig:
    """The codec to train and how: one YAML file with `codec`, `quantizer`, `losses`, `training` and `data`."""

    codec: EncodecConfig
    quantizer: QuantizerSettings = field(default_factory=QuantizerSettings)
    losses: LossSettings = field(default_factory=LossSettings)
    training: OptimisationSettings = field(default_factory=OptimisationSettings)
    data: DataSettings = field(default_factory=DataSettings)

    def __post_init__(self) -> None:
        if self.codec.audio_channels != 1:
            raise ValueError(
                f"codec.audio_channels is {self.codec.audio_channels}; the codec is mono (it codes L, R and mid "
                "separately), set it to 1"
            )
        if self.codec.chunk_length_s is not None:
            raise ValueError(f"codec.chunk_length_s is {self.codec.chunk_length_s}; set it to null (one chunk)")
        if not 0.0 < self.quantizer.decay < 1.0:
            raise ValueError(f"quantizer.decay is {self.quantizer.decay}; it must lie strictly between 0 and 1")
        unknown = set(self.data.view_weights) - set(VIEWS)
        if unknown:
            raise ValueError(f"data.view_weights has unknown views {sorted(unknown)}; use {', '.join(VIEWS)}")
        if not 0.0 <= self.data.synthetic_fraction <= 1.0:
            raise ValueError(f"data.synthetic_fraction is {self.data.synthetic_fraction}; it must be in [0, 1]")
        if self.crop_samples % self.codec.hop_length:
            raise ValueError(
                f"training.crop_seconds {self.training.crop_seconds} is not a whole number of codec frames "
                f"({self.codec.hop_length} samples each)"
            )

    @property
    def crop_samples(self) -> int:
        """Samples in one training crop."""
        return round(self.training.crop_seconds * self.codec.sampling_rate)

    @property
    def bandwidth(self) -> float:
        """The codec bandwidth (kbps) that uses every codebook."""
        return float(max(self.codec.target_bandwidths))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CodecTrainingConfig:
        """Build from a nested dict (as read from YAML); unknown keys raise a `ValueError` naming them."""
        sections = {"quantizer": QuantizerSettings, "losses": LossSettings, "training": OptimisationSettings}
        sections["data"] = DataSettings
        unknown = set(values) - set(sections) - {"codec"}
        if unknown:
            raise ValueError(f"unknown config sections {sorted(unknown)}; expected codec, {', '.join(sections)}")
        if "codec" not in values:
            raise ValueError("the config has no `codec` section (an EncodecConfig)")
        kwargs: dict[str, Any] = {"codec": EncodecConfig(**values["codec"])}
        for name, settings in sections.items():
            given = dict(values.get(name) or {})
            known = {f.name for f in dataclasses.fields(settings)}
            if set(given) - known:
                raise ValueError(f"unknown keys {sorted(set(given) - known)} in section `{name}`")
            kwargs[name] = settings(**given)
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> CodecTrainingConfig:
        """Read a codec training config from a YAML file."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"codec config {str(path)!r} does not exist; see configs/codec/")
        return cls.from_dict(yaml.safe_load(path.read_text()) or {})

    def to_dict(self) -> dict[str, Any]:
        """The config as a nested dict, with the codec's full `EncodecConfig` values."""
        values = {name: dataclasses.asdict(getattr(self, name)) for name in ("quantizer", "losses", "training")}
        values["data"] = dataclasses.asdict(self.data)
        return {"codec": self.codec.to_diff_dict(), **values}
