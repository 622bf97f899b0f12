"""Where the package's default model comes from: the one place to change when a model ships."""

from __future__ import annotations

# The Hub id of the shipped default model; None until one is published.
DEFAULT_MODEL_ID: str | None = None


def default_model_path() -> str:
    """The folder or Hub id of the default model, used when no model is given."""
    if DEFAULT_MODEL_ID is None:
        raise ValueError(
            "no default model is installed yet; pass --model PATH_OR_HUB_ID (a folder saved with save_pretrained, "
            "or dsp:sources for the DSP upmixer)"
        )
    return DEFAULT_MODEL_ID


__all__ = ["DEFAULT_MODEL_ID", "default_model_path"]
