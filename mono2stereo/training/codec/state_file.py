"""A training state (nested dicts and lists of tensors, numbers and strings) as one safetensors file, no pickle.

The tensors go into the file's tensor table under their path in the state (`optimizer/state/3/exp_avg`); the rest
of the structure is JSON in the file's metadata, with each tensor replaced by a reference to its name. Loading
therefore never runs code, whatever the file holds.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

_TENSOR = "__tensor__"
_TUPLE = "__tuple__"
_INT_KEYS = "__int_keys__"
_METADATA_KEY = "state"


class UnreadableState(ValueError):
    """A state file that is damaged or was not written by `save_state`."""


def _flatten(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().clone()  # a copy: safetensors refuses shared storage
        return {_TENSOR: path}
    if isinstance(value, dict):
        if value and all(isinstance(key, int) for key in value):  # optimizer states are keyed by parameter index
            return {_INT_KEYS: {str(k): _flatten(v, f"{path}/{k}", tensors) for k, v in value.items()}}
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"state keys at {path or '/'} must be all str or all int, got {list(value)[:4]}")
        return {k: _flatten(v, f"{path}/{k}", tensors) for k, v in value.items()}
    if isinstance(value, tuple):
        return {_TUPLE: [_flatten(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_flatten(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} at {path or '/'}; convert it to a tensor or number")


def _restore(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_restore(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {_TENSOR}:
        return tensors[value[_TENSOR]]
    if set(value) == {_TUPLE}:
        return tuple(_restore(v, tensors) for v in value[_TUPLE])
    if set(value) == {_INT_KEYS}:
        return {int(k): _restore(v, tensors) for k, v in value[_INT_KEYS].items()}
    return {k: _restore(v, tensors) for k, v in value.items()}


def save_state(state: dict, path: str | os.PathLike) -> None:
    """Write `state` to `path` atomically (a temporary file renamed into place)."""
    tensors: dict[str, torch.Tensor] = {}
    structure = _flatten(state, "", tensors)
    partial = f"{os.fspath(path)}.partial"
    save_file(tensors, partial, metadata={_METADATA_KEY: json.dumps(structure)})
    os.replace(partial, path)


def load_state(path: str | os.PathLike) -> dict:
    """Read a state written by `save_state`; a damaged or foreign file raises `UnreadableState` naming it."""
    from safetensors import safe_open

    try:
        with safe_open(os.fspath(path), "pt") as file:
            metadata = file.metadata() or {}
        structure = json.loads(metadata[_METADATA_KEY])
        return _restore(structure, load_file(os.fspath(path)))
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise UnreadableState(f"{os.fspath(path)} is not a readable training state ({error})") from None


__all__ = ["save_state", "load_state", "UnreadableState"]
