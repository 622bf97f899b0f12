"""Where the package's default model comes from: the one place to change when a model ships.

The Hub id of the public release is tried first; offline, or when the Hub cannot give it, the model shipped
inside the package is used, with a one-line notice on the `mono2stereo` logger.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

# The Hub id of the public release of the default model; `MONO2STEREO_DEFAULT_MODEL` overrides it.
DEFAULT_MODEL_ID = "mono2stereo/mono2stereo-small"
# The same model, shipped inside the package so that upmixing works offline on a fresh install.
SHIPPED_MODEL_DIR = Path(__file__).resolve().parents[1] / "default_model"

logger = logging.getLogger("mono2stereo")


def default_model_id() -> str:
    """The Hub id (or folder) tried first for the default model."""
    return os.environ.get("MONO2STEREO_DEFAULT_MODEL", DEFAULT_MODEL_ID)


def shipped_model_path() -> str:
    """The folder of the default model shipped with the package."""
    if not (SHIPPED_MODEL_DIR / "model.safetensors").is_file():
        raise ValueError(
            f"the default model is missing from this installation ({SHIPPED_MODEL_DIR}); reinstall mono2stereo or "
            "pass --model PATH_OR_HUB_ID (a folder saved with save_pretrained, or dsp:sources)"
        )
    return str(SHIPPED_MODEL_DIR)


def default_model_path() -> str:
    """A local folder holding the default model: the Hub release when it can be had, else the shipped one."""
    model_id = default_model_id()
    if os.path.isdir(model_id):
        return model_id
    from huggingface_hub import constants

    from .model_source import fetch_model

    if constants.HF_HUB_OFFLINE:
        reason = "offline"
    else:
        try:  # one try with a short timeout: an unreachable Hub must not delay every start
            return fetch_model(model_id)
        except ValueError:  # no network, no such repo yet, a proxy refusing: all mean "use the shipped one"
            reason = "not on the Hub or the Hub not reachable"
    logger.warning("mono2stereo: using the default model shipped with the package (%s: %s)", model_id, reason)
    return shipped_model_path()


__all__ = ["DEFAULT_MODEL_ID", "SHIPPED_MODEL_DIR", "default_model_id", "shipped_model_path", "default_model_path"]
