"""What every upmixer offers, an AI model's pipeline or a DSP upmixer: the `Upmixer` protocol.

`mono2stereo.upmix`, the `upmix` and `mix` commands, the Space and `mono2stereo eval` take any object that has
these members, and ask it rather than its class what applies: `Mono2StereoPipeline` and `DspPipeline` both
satisfy it (`isinstance(pipeline, Upmixer)` holds for both).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .output import UpmixOutput


@runtime_checkable
class Upmixer(Protocol):
    """Mono (or folded stereo) audio in, stereo out at the input's rate and length, with the gains it applied."""

    @property
    def name(self) -> str:
        """How the upmixer is named to people: `dsp:NAME`, or the folder or Hub id a model was loaded from."""
        ...

    @property
    def styles(self) -> tuple[str, ...]:
        """The style tags it knows; none for a DSP upmixer."""
        ...

    @property
    def generative(self) -> bool:
        """True when its stereo is sampled, so that seeds, variants and render modes apply; False when it is one
        fixed function of the input (a DSP upmixer)."""
        ...

    def check_settings(
        self, style: str | None, width: float, render: str, num_variants: int, batch_size: int | None = None
    ) -> None:
        """Raise a ValueError naming the first of these settings that this upmixer cannot use (`batch_size` None:
        the upmixer's own)."""
        ...

    def window_frames(self, window_seconds: float | None, overlap_seconds: float | None) -> tuple[int, int]:
        """Window and overlap in frames for these lengths in seconds (None: the upmixer's own), or a ValueError."""
        ...

    def __call__(self, audio: np.ndarray, sampling_rate: int, **settings) -> UpmixOutput:
        """Upmix `audio (samples,)` or `(samples, 2)` (folded to mono first) in memory."""
        ...

    def upmix_into(self, mono, sampling_rate: int, sinks: list, **settings) -> UpmixOutput:
        """Upmix `mono` (an array or spool) into one sink per variant; the returned output's `audio` is None."""
        ...


__all__ = ["Upmixer"]
