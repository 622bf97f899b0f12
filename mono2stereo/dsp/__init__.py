"""Upmixers without weights (`--model dsp:NAME`) and the signal processing they share with the rest of mono2stereo.

`upmixers` (the registry and `upmix_dsp`), `sources` (source formation), `decorrelators` (all-pass and noise-burst
filters), `bands` (ERB bands and the band analyses of the metrics and the renders).
"""

from __future__ import annotations

import importlib
from typing import Any

DSP_PREFIX = "dsp:"  # how a DSP upmixer is named wherever a model is: `--model dsp:NAME`, `upmix(model="dsp:NAME")`
# The upmixers' names, in the order `upmixers.DSP_UPMIXERS` registers them (a test checks the two agree), so a name
# is checked without importing scipy and torch.
DSP_NAMES = ("dual", "lauridsen", "allpass", "orban", "sources")

# Loaded on first use: scipy's filters take a moment to import, and naming `DSP_PREFIX` needs none of them.
_EXPORTS = {
    "DSP_UPMIXERS": "upmixers",
    "upmix_dsp": "upmixers",
    "upmix_sources": "sources",
}

__all__ = ["DSP_NAMES", "DSP_PREFIX", "dsp_upmixer_name", *_EXPORTS]


def dsp_upmixer_name(name: str) -> str:
    """The upmixer's name for `dsp:NAME` or `NAME`; raises `ValueError` for an unknown upmixer."""
    key = name[len(DSP_PREFIX) :] if name.startswith(DSP_PREFIX) else name
    if key not in DSP_NAMES:
        valid = ", ".join(DSP_PREFIX + known for known in DSP_NAMES)
        raise ValueError(f"unknown DSP upmixer {name!r}; choose one of {valid}")
    return key


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
