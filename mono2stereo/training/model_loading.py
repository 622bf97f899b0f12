"""The model a run trains: a new one from a JSON config (with pretrained codec weights) or a pretrained one."""

from __future__ import annotations

import json
import os

import torch
from transformers import EncodecModel

from ..modeling import Mono2StereoConfig, Mono2StereoModel, randomize_codebooks
from ..modeling.pretrained import check_config_file
from .config import ModelSource


def load_codec_weights(model: Mono2StereoModel, codec_id: str) -> Mono2StereoModel:
    """Copy a pretrained `EncodecModel` (a Hub id such as `facebook/encodec_32khz`, or a folder) into `model.codec`."""
    codec = EncodecModel.from_pretrained(codec_id)
    mine, theirs = model.config.codec, codec.config
    for field in ("sampling_rate", "codebook_size", "hop_length", "audio_channels"):
        if getattr(mine, field) != getattr(theirs, field):
            raise ValueError(
                f"codec {codec_id!r} has {field}={getattr(theirs, field)} but the model config expects "
                f"{getattr(mine, field)}; use a model config made for this codec"
            )
    missing, unexpected = model.codec.load_state_dict(codec.state_dict(), strict=False)
    if missing or unexpected:
        raise ValueError(
            f"codec {codec_id!r} does not fit the model's codec: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    model.codec.requires_grad_(False)
    return model


def load_spatial_rvq_tables(model: Mono2StereoModel, folder: str) -> Mono2StereoModel:
    """Copy the rvq tables that `spatial_rvq_fit` wrote to `folder` into a spatial model's codec."""
    if model.codec.rvq is None:
        raise ValueError(
            f"model.codec={folder!r} gives rvq tables, but the model's spatial codec has tokenizer "
            f"{model.config.codec.tokenizer!r}; use the config.json that spatial_rvq_fit wrote beside them"
        )
    model.codec.rvq.load_tables(folder)
    return model


def build_model(source: ModelSource, seed: int = 0) -> Mono2StereoModel:
    """The model described by the `model:` section of a training config, in training mode."""
    if source.from_pretrained is not None:
        model = Mono2StereoModel.from_pretrained(source.from_pretrained, **source.overrides)
    else:
        if not os.path.isfile(source.config):
            raise ValueError(f"model config {source.config!r} does not exist; give a Mono2StereoConfig JSON file")
        check_config_file(source.config)
        with open(source.config) as file:
            values = json.load(file)
        values.pop("transformers_version", None)
        values.update(source.overrides)
        torch.manual_seed(seed)
        model = Mono2StereoModel(Mono2StereoConfig(**values))
    if source.codec is not None and model.config.is_spatial:
        load_spatial_rvq_tables(model, source.codec)
    elif source.codec is not None:
        load_codec_weights(model, source.codec)
    elif source.random_codebooks:
        randomize_codebooks(model.codec, torch.Generator().manual_seed(seed))
    return model.train()


__all__ = ["build_model", "load_codec_weights", "load_spatial_rvq_tables"]
