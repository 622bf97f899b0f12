"""`Mono2StereoPreTrainedModel`: weight initialisation, and loading and saving the Hugging Face way (safetensors
only, with the sampling defaults, without progress bars)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import torch
from safetensors import SafetensorError
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import logging as transformers_logging

from .configuration import Mono2StereoConfig
from .generation_settings import GenerationSettings


@contextlib.contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Hide transformers' progress bars ("Loading weights", "Writing model shards") inside the block only."""
    enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            transformers_logging.enable_progress_bar()


class Mono2StereoPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading rules shared by mono2stereo models."""

    config_class = Mono2StereoConfig
    base_model_prefix = "mono2stereo"
    main_input_name = "mono_codes"
    _no_split_modules = ["TransformerBlock"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.Conv1d):
            init.normal_(module.weight, mean=0.0, std=std)
            init.zeros_(module.bias)
        elif isinstance(module, Mono2StereoPreTrainedModel):
            module._init_own_weights(std)

    def _init_own_weights(self, std: float) -> None:
        """Initialise the parameters the model holds itself, outside its layers."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *args, **kwargs):
        """Load a model from a local folder or a Hub id; only safetensors weights are accepted."""
        path = str(pretrained_model_name_or_path)
        if os.path.isdir(path):
            files = set(os.listdir(path))
            has_safetensors = any(name.endswith(".safetensors") for name in files)
            pickled = sorted(name for name in files if name.endswith((".bin", ".pt", ".pth", ".ckpt")))
            if pickled and not has_safetensors:
                raise ValueError(
                    f"{path} holds only a pickled checkpoint ({', '.join(pickled)}); mono2stereo loads safetensors "
                    "weights only, since pickles can run code. Load it with torch yourself if you trust it, then "
                    "save_pretrained() it to get model.safetensors."
                )
            check_config_file(os.path.join(path, "config.json"))
        kwargs["use_safetensors"] = True
        try:
            with quiet_progress_bars():  # a library call does not print; the CLI shows its own progress
                model = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        except SafetensorError as error:
            raise ValueError(
                f"{path}: model.safetensors is damaged or incomplete ({error}); an interrupted download or copy? "
                "Fetch or save it again"
            ) from None
        except RuntimeError as error:
            if "size mismatch" not in str(error) and "mismatched_sizes" not in str(error):
                raise
            raise ValueError(
                f"{path}: the weights in model.safetensors do not fit config.json (tensor shapes differ); was the "
                "config edited after saving?"
            ) from None
        model.generation_settings = GenerationSettings.from_pretrained(pretrained_model_name_or_path, **kwargs)
        return model

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        """`PreTrainedModel.save_pretrained`, plus `generation_config.json` with the model's sampling defaults, and no
        progress bar."""
        if kwargs.get("is_main_process", True):  # written first, so that a push_to_hub=True save uploads it too
            os.makedirs(save_directory, exist_ok=True)
            self.generation_settings.save_pretrained(save_directory)
        with quiet_progress_bars():  # without transformers' progress bar on stderr
            super().save_pretrained(save_directory, *args, **kwargs)


def check_config_file(path: str) -> None:
    """Raise a ValueError naming `path` when it is not a JSON object of settings (the config itself checks them)."""
    if not os.path.isfile(path):
        return  # from_pretrained says what is missing
    try:
        with open(path, encoding="utf-8") as file:
            values = json.load(file)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a JSON object of settings, got a JSON {type(values).__name__}")


__all__ = ["Mono2StereoPreTrainedModel", "check_config_file", "quiet_progress_bars"]
