"""The systems `mono2stereo eval` scores, each behind one call: mono `(n,)`, its rate and a seed in, `(variants, n,
2)` stereo out.

A model is scored through the `Upmixer` protocol of `mono2stereo.inference` (`UpmixerSystem`), exactly as
`mono2stereo.upmix` would upmix with it. The DSP upmixers (`dsp:NAME`) are scored as they make their stereo,
unlimited (`upmix_dsp`), and PS-NN (`psnn:INDEX`) as it synthesises it: both are `FixedSystem`s, run once per track
whatever the number of seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar, Protocol

import numpy as np

from ..dsp import DSP_PREFIX, dsp_upmixer_name
from ..dsp.upmixers import upmix_dsp
from ..inference.upmixer import Upmixer

MEAN_PREFIX = "mean:"
PSNN_PREFIX = "psnn:"


class System(Protocol):
    """An upmix system: `(variants, n, 2)` float32 for mono `(n,)` at `sampling_rate` with `seed`.

    A system whose `seeded` attribute is False runs once per track, with the first seed; one without the attribute
    counts as seeded.
    """

    def __call__(self, mono: np.ndarray, sampling_rate: int, seed: int | None) -> np.ndarray: ...


@dataclass(frozen=True)
class UpmixerSystem:
    """An `Upmixer` (a model's pipeline, or a DSP pipeline with its peak safety) as a system.

    A generative upmixer is called with the seed, `num_variants` and `settings` (e.g. `decoding`); one that is not
    with none of them, and is run once.
    """

    upmixer: Upmixer
    num_variants: int = 1
    settings: dict = field(default_factory=dict)

    @property
    def seeded(self) -> bool:
        """Whether the seed changes the upmix."""
        return self.upmixer.generative

    def __call__(self, mono: np.ndarray, sampling_rate: int, seed: int | None) -> np.ndarray:
        """The upmix's variants `(variants, n, 2)`."""
        settings = dict(seed=seed, num_variants=self.num_variants, **self.settings) if self.seeded else {}
        audio = np.asarray(self.upmixer(mono, sampling_rate, **settings).audio, dtype=np.float32)
        return audio if audio.ndim == 3 else audio[None]


@dataclass(frozen=True)
class FixedSystem:
    """A deterministic upmix `upmix(mono, sampling_rate) -> (n, 2)` as a system (the seed does not apply)."""

    upmix: Callable[[np.ndarray, int], np.ndarray]
    seeded: ClassVar[bool] = False

    def __call__(self, mono: np.ndarray, sampling_rate: int, seed: int | None = None) -> np.ndarray:
        """The one upmix, as `(1, n, 2)`."""
        return np.asarray(self.upmix(mono, sampling_rate))[None]


def dsp_system(name: str) -> FixedSystem:
    """The system of `dsp:NAME`: the DSP upmixer's own stereo, not limited; a ValueError for an unknown name."""
    dsp_upmixer_name(name)  # fails early on an unknown name
    return FixedSystem(partial(upmix_dsp, name))


def model_system(model: str, num_variants: int = 1, batch_size: int | None = None) -> UpmixerSystem:
    """The system of a model: 'default', a local path or a Hub id, decoded as its generation settings say;
    `mean:MODEL` is a spatial model with mean decoding (the regression baseline). `batch_size` None upmixes with
    the model's default batch. Loads the model; a ValueError or OSError says why it cannot."""
    from ..inference.pipeline import load_pipeline

    decoding = "mean" if model.startswith(MEAN_PREFIX) else None  # None: the model's generation_config.json
    model = model.removeprefix(MEAN_PREFIX)
    upmixer = load_pipeline(None if model == "default" else model)
    return UpmixerSystem(upmixer, num_variants, {"decoding": decoding, "batch_size": batch_size})


def psnn_system(index: str) -> FixedSystem:
    """The PS-NN baseline over an index folder; a ValueError when it holds no index."""
    from .psnn import PsnnUpmixer

    return FixedSystem(PsnnUpmixer(index))


def system_for(name: str, num_variants: int = 1, batch_size: int | None = None) -> System:
    """The system a name on the command line stands for: `dsp:NAME`, `psnn:INDEX`, or a model (`model_system`)."""
    if name.startswith(DSP_PREFIX):
        return dsp_system(name)
    if name.startswith(PSNN_PREFIX):
        return psnn_system(name.removeprefix(PSNN_PREFIX))
    return model_system(name, num_variants, batch_size)


def upmix_seeds(system: System, seed: int | None, num_seeds: int) -> list[int | None]:
    """The seeds `evaluate_systems` upmixes with: `num_seeds` from `seed` on, or just `seed` for a fixed system."""
    if num_seeds == 1 or not getattr(system, "seeded", True):
        return [seed]
    return list(range(seed, seed + num_seeds))


__all__ = [
    "FixedSystem",
    "System",
    "UpmixerSystem",
    "dsp_system",
    "model_system",
    "psnn_system",
    "system_for",
    "upmix_seeds",
]
