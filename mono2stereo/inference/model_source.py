"""Where a model named by `--model` is: a local folder, or a Hub id asked for once, with a short timeout.

Loading a Hub id straight away retries an unreachable Hub several times (tens of seconds of warnings) before it
fails. Instead the Hub is asked once whether the model exists (`HUB_TIMEOUT_SECONDS`); when it cannot be reached,
a copy already in the local cache is used, and without one the error is a single line saying what to do.
"""

from __future__ import annotations

import os

from ..dsp import DSP_PREFIX

HUB_TIMEOUT_SECONDS = 5.0
HUB_FILES = ["*.json", "*.safetensors", "README.md"]


def looks_like_hub_id(name: str) -> bool:
    """True for `owner/name` or `name` that is not an existing path (a Hub repository id)."""
    if os.path.exists(name) or name.startswith((".", "/", "~")) or os.sep in name.replace("/", ""):
        return False
    return name.count("/") <= 1 and bool(name.strip("/"))


def cached_snapshot(model_id: str) -> str | None:
    """The local folder of `model_id` from the Hub cache, or None when it was never downloaded."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(model_id, allow_patterns=HUB_FILES, local_files_only=True)
    except Exception:  # not cached (LocalEntryNotFoundError), or a cache entry without the files
        return None


def fetch_model(model_id: str) -> str:
    """A local folder holding the Hub model `model_id`: downloaded, or from the cache when the Hub is unreachable.

    Raises a ValueError of one line when the model does not exist or cannot be had.
    """
    from huggingface_hub import HfApi, constants, snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    if constants.HF_HUB_OFFLINE:
        cached = cached_snapshot(model_id)
        if cached is None:
            raise ValueError(
                f"model {model_id!r} is not in the local Hub cache and HF_HUB_OFFLINE is set; "
                "download it once online, or pass a local folder saved with save_pretrained"
            )
        return cached
    try:
        HfApi().model_info(model_id, timeout=HUB_TIMEOUT_SECONDS)
    except (RepositoryNotFoundError, GatedRepoError):
        raise ValueError(
            f"there is no model {model_id!r} on the Hugging Face Hub (or it is private); check the id, log in with "
            "`hf auth login`, or pass a local folder saved with save_pretrained"
        ) from None
    except Exception as error:  # no network, a proxy refusing, a timeout: one try is enough to know
        cached = cached_snapshot(model_id)
        if cached is not None:
            return cached
        raise ValueError(
            f"cannot reach the Hugging Face Hub for model {model_id!r} ({type(error).__name__}) and it is not in the "
            "local cache; connect, or pass a local folder saved with save_pretrained"
        ) from None
    return snapshot_download(model_id, allow_patterns=HUB_FILES)


def resolve_model(name: str) -> str:
    """`name` itself for a folder or `dsp:NAME`; the local folder of a Hub id (see `fetch_model`)."""
    if name.startswith(DSP_PREFIX) or not looks_like_hub_id(name):
        return name
    return fetch_model(name)


__all__ = ["HUB_TIMEOUT_SECONDS", "looks_like_hub_id", "cached_snapshot", "fetch_model", "resolve_model"]
