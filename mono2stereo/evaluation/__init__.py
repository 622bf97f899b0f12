"""Evaluation of stereo upmixes: spatial metrics against a reference, the PS-NN baseline, the `eval` command."""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use, so that the command line starts without scipy (an extra, not a base dependency).
_EXPORTS = {
    "evaluate_upmix": "metrics",
    "spatial_cues": "metrics",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
