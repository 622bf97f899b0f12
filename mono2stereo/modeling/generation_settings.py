"""A model's sampling defaults, saved beside its config as `generation_config.json`.

`save_pretrained` writes the file and `from_pretrained` reads it, as transformers' MusicGen does with its
generation config, so a release ships the settings it was tuned with. `generate`, the pipeline, the CLI and the
Space take each setting from the call when it is given and from the model's file otherwise; a model folder
without the file gets the defaults below.

The sampling keys carry the names and meanings of transformers' `GenerationConfig` (`temperature`, `top_k`,
`top_p`, `guidance_scale`; `temperature: 0` means greedy decoding). The others are ours: `decoding` (`sample`, or for
a spatial model `quantile` / `mean` / `mean-level` / `mean-magnitude` / `median`, see `Mono2StereoPipeline.__call__`)
and `target_width_db` (the width asked of the model, side-to-mid in dB; null leaves it to the model: free, or its
width head's prediction where it has one), and for `quantile` decoding `quantile_seconds` and
`quantile_band_correlation` (see `quantile_field`), so a release can ship the decoding it was selected with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from ..inference.options import check_generation_settings

GENERATION_CONFIG_NAME = "generation_config.json"
SAMPLING_SETTINGS = ("temperature", "top_k", "top_p", "guidance_scale")
# Keyword arguments of `from_pretrained` that say where and how to fetch a file from the Hub.
HUB_KWARGS = ("cache_dir", "force_download", "proxies", "token", "revision", "local_files_only", "subfolder")


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling defaults of a model (see the module docstring); bad values raise a ValueError naming them."""

    temperature: float = 1.0  # 0 is greedy
    top_k: int = 250  # 0 keeps every token
    top_p: float = 0.0  # nucleus sampling; 0 (or 1) turns it off
    guidance_scale: float = 1.0  # classifier-free guidance on the style and width; 1 turns it off
    decoding: str = "sample"  # or, for a spatial model, one of the others of `options.DECODINGS`
    target_width_db: float | None = None  # the width asked of the model; None: the model's own (its width head's)
    quantile_seconds: float = 0.5  # `quantile` decoding: how long the sampling quantiles take to drift apart
    quantile_band_correlation: float = 0.5  # `quantile` decoding: the share of the field common to one cue's bands

    def __post_init__(self):
        check_generation_settings(**asdict(self))

    @classmethod
    def from_dict(cls, values: dict, source: str = "generation settings") -> GenerationSettings:
        """Settings from a mapping of some fields (the others keep their defaults); `source` names it in errors."""
        if not isinstance(values, dict):
            raise ValueError(f"{source} must be a JSON object of settings, got {type(values).__name__}")
        known = [field.name for field in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{source}: unknown setting {', '.join(unknown)}; the settings are {', '.join(known)}")
        try:
            return cls(**values)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    def to_dict(self) -> dict:
        """The settings as a plain dict."""
        return asdict(self)

    def sampling(self) -> dict:
        """The four sampling settings of `Mono2StereoModel.generate` (the pipeline applies the other two)."""
        return {name: getattr(self, name) for name in SAMPLING_SETTINGS}

    def with_overrides(self, **given) -> dict:
        """The sampling settings with every value of `given` that is not None in its place (not checked here)."""
        return {name: value if given.get(name) is None else given[name] for name, value in self.sampling().items()}

    def save_pretrained(self, folder: str | os.PathLike) -> str:
        """Write `generation_config.json` into `folder`; returns its path."""
        path = os.path.join(folder, GENERATION_CONFIG_NAME)
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_dict(), file, indent=2)
            file.write("\n")
        return path

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> GenerationSettings:
        """Settings read from a `generation_config.json`."""
        try:
            with open(path, encoding="utf-8") as file:
                values = json.load(file)
        except (UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"{path} is not valid JSON ({error}); fix it, or delete it to use the defaults") from None
        return cls.from_dict(values, source=os.fspath(path))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs) -> GenerationSettings:
        """The settings of a model folder or Hub id; the defaults when it has no `generation_config.json`.

        `kwargs` are those of `from_pretrained` (`revision`, `cache_dir`, `token`, ...); the others are ignored.
        """
        name = os.fspath(name_or_path)
        if os.path.isdir(name):
            path = os.path.join(name, kwargs.get("subfolder") or "", GENERATION_CONFIG_NAME)
            return cls.from_json_file(path) if os.path.isfile(path) else cls()
        from transformers.utils import cached_file

        hub = {key: kwargs[key] for key in HUB_KWARGS if kwargs.get(key) is not None}
        path = cached_file(
            name,
            GENERATION_CONFIG_NAME,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
            **hub,
        )
        return cls() if path is None else cls.from_json_file(path)


__all__ = ["GenerationSettings", "GENERATION_CONFIG_NAME"]
