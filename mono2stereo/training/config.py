"""`TrainingConfig`: every setting of a training run, loaded from one YAML file."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

SOURCE_KINDS = ("synthetic", "multitrack", "folder", "webdataset", "hub", "tokens")
GENERATED_KINDS = ("synthetic", "multitrack")  # made from a seed, no path


@dataclass
class SourceConfig:
    """One data source; `kind` says which fields matter."""

    kind: str = "synthetic"
    weight: float = 1.0
    path: str | None = None  # folder, tar glob, Hub id or local dataset repo, token shard folder; multitrack: the
    # folder of Debian's MIDI packages (`midi_library`; fetched there when missing), optional
    style: str | None = None  # a fixed style tag for every example of this source
    # synthetic and multitrack (General-MIDI stems rendered by fluidsynth)
    num_mixes: int = 256
    styles: list[str] | None = None
    seed: int = 0
    num_shards: int = 8
    duration_s: float = 4.0
    soundfont: str | None = None  # multitrack: a General-MIDI SoundFont (default FluidR3_GM, else TimGM6mb)
    midi_share: float = 0.5  # multitrack with a `path`: the share of mixes cut from Debian's MIDI files
    # hub
    split: str = "train"
    audio_column: str = "audio"
    style_column: str | None = None
    name: str | None = None  # the dataset's config name
    revision: str | None = None

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"data source kind {self.kind!r} is unknown; use one of {', '.join(SOURCE_KINDS)}")
        if self.kind not in GENERATED_KINDS and not self.path:
            raise ValueError(f"a {self.kind!r} data source needs `path` (a folder, tar glob or dataset id)")
        if self.weight <= 0:
            raise ValueError(f"data source weight {self.weight} must be positive")


@dataclass
class DataConfig:
    """The training and held-out streams, and how audio becomes training examples."""

    sources: list[SourceConfig] = field(default_factory=lambda: [SourceConfig()])
    eval_sources: list[SourceConfig] = field(default_factory=list)
    crops_per_example: int = 1
    silence_db: float = -60.0  # crops quieter than this (RMS, dBFS) are skipped
    min_width_db: float = -40.0  # crops whose side/mid is below this are near-mono and skipped
    swap_probability: float = 0.5  # left/right swaps of audio, and of token shards that can be swapped (see stream)
    gain_db: list[float] = field(default_factory=lambda: [-6.0, 0.0])
    shuffle_buffer: int = 0  # examples in the seeded shuffle buffer; 0 keeps shard order

    def __post_init__(self):
        self.sources = [s if isinstance(s, SourceConfig) else _build(SourceConfig, s) for s in self.sources]
        self.eval_sources = [s if isinstance(s, SourceConfig) else _build(SourceConfig, s) for s in self.eval_sources]
        if not self.sources:
            raise ValueError("data.sources is empty; give at least one training source")
        if len(self.gain_db) != 2 or self.gain_db[0] > self.gain_db[1]:
            raise ValueError(f"data.gain_db={self.gain_db} must be [low, high] in dB with low <= high")
        if not 0 <= self.swap_probability <= 1:
            raise ValueError(f"data.swap_probability={self.swap_probability} must be in [0, 1]")


@dataclass
class ModelSource:
    """Where the model comes from: a JSON config (new model) or a pretrained folder / Hub id."""

    config: str | None = None  # path to a Mono2StereoConfig JSON (relative paths: to the current directory)
    from_pretrained: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    # pretrained EncodecModel folder or Hub id, e.g. facebook/encodec_32khz; for a spatial rvq model, the folder of its
    # fitted tables (python -m mono2stereo.training.spatial_rvq_fit)
    codec: str | None = None
    random_codebooks: bool = False  # for tiny test codecs, whose codebooks are all zero at init

    def __post_init__(self):
        if (self.config is None) == (self.from_pretrained is None):
            raise ValueError("model: give exactly one of `config` (a JSON file) or `from_pretrained`")


@dataclass
class TrainingConfig:
    """A whole training run."""

    model: ModelSource = field(default_factory=lambda: ModelSource(config="configs/model/tiny.json"))
    data: DataConfig = field(default_factory=DataConfig)
    seed: int = 0
    batch_size: int = 8  # per process
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    warmup_steps: int = 100
    max_steps: int = 1000
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"  # no | fp16 | bf16
    save_every: int = 500
    save_total_limit: int = 3
    eval_every: int = 500
    eval_batches: int = 4
    spatial_eval: bool = False  # also upmix the eval batches and log spatial metrics (training/spatial_eval.py)
    log_every: int = 10
    report_to: list[str] | str = "auto"  # "auto": tensorboard, plus wandb when installed
    project_name: str = "mono2stereo"
    push_to_hub: bool = False
    hub_model_id: str | None = None
    trace_ranks: bool = False  # write each process's example ids and final weight digest to output_dir/trace-rank*
    num_workers: int = 0

    def __post_init__(self):
        if not isinstance(self.model, ModelSource):
            self.model = _build(ModelSource, self.model)
        if not isinstance(self.data, DataConfig):
            self.data = _build(DataConfig, self.data)
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ValueError(f"mixed_precision={self.mixed_precision!r} must be one of no, fp16, bf16")
        for name in ("batch_size", "gradient_accumulation_steps", "max_steps", "save_every", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be a positive integer")
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("push_to_hub is true but hub_model_id is empty; name the repository to push to")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> TrainingConfig:
        """Read a config file; relative model/data paths are resolved against the current directory."""
        import yaml

        with open(path) as file:
            values = yaml.safe_load(file) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a mapping of settings, got {type(values).__name__}")
        return _build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for logging and for saving beside checkpoints."""
        return dataclasses.asdict(self)


def _build(cls, values: dict[str, Any]):
    """Build a dataclass from a mapping, naming any key it does not know."""
    if not isinstance(values, dict):
        raise ValueError(f"{cls.__name__} settings must be a mapping, got {values!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**values)


__all__ = ["TrainingConfig", "DataConfig", "SourceConfig", "ModelSource", "SOURCE_KINDS"]
