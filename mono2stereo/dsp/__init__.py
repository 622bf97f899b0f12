"""Upmixers without weights (`--model dsp:NAME`) and the signal processing they share with the rest of mono2stereo.

`upmixers` (the registry and `upmix_dsp`), `sources` (source formation), `decorrelators` (all-pass and noise-burst
filters), `bands` (ERB bands and the band analyses of the metrics and the renders).
"""

from __future__ import annotations

import importlib
from typing import Any

DSP_PREFIX = "dsp:"  # how a DSP upmixer is named wherever a model is: `--model dsp:NAME`, `upmix(model="dsp:NAME")`

# Loaded on first use: scipy's filters take a moment to import, and naming `DSP_PREFIX` needs none of them.
_EXPORTS = {
    "DSP_UPMIXERS": "upmixers",
    "dsp_upmixer_name": "upmixers",
    "upmix_dsp": "upmixers",
    "upmix_sources": "sources",
}

__all__ = ["DSP_PREFIX", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
