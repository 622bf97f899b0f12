"""Token shards: training examples encoded ahead of time, so training skips the codec.

A shard is a safetensors file `tokens-NNNNN.safetensors` holding `mono_codes (N, K, F)` and `stereo_codes
(N, 2K, F)` as int16, `width_db (N,)` float32, and in its metadata the example ids, style tags and the codec
layout they were made with (checked against the model when read). A mid-side shard also holds
`mirrored_side_codes (N, K, F)`, the codes of each example's side with L and R swapped (`-S`), so the stream can
swap left and right as it does for audio; shards made before it are read as before and never swapped.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from collections.abc import Iterator

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from ..modeling import Mono2StereoConfig

SHARD_PATTERN = "tokens-{:05d}.safetensors"


def codec_layout(config: Mono2StereoConfig) -> dict:
    """What a token shard must agree on with the model that trains on it."""
    return {
        "sampling_rate": config.sampling_rate,
        "hop_length": config.hop_length,
        "codebook_size": config.codebook_size,
        "num_codebooks": config.num_codebooks,
        "window_frames": config.window_frames,
        "channel_layout": config.channel_layout,
    }


class TokenShardWriter:
    """Appends encoded examples and writes a shard every `examples_per_shard` of them."""

    def __init__(self, folder: str, config: Mono2StereoConfig, examples_per_shard: int = 1024):
        os.makedirs(folder, exist_ok=True)
        if list_token_shards(folder, must_exist=False):
            raise ValueError(f"{folder} already holds token shards; choose an empty output folder")
        self.folder, self.layout, self.examples_per_shard = folder, codec_layout(config), examples_per_shard
        self.pending: dict[str, list] = {
            "mono": [],
            "stereo": [],
            "mirrored": [],
            "width": [],
            "styles": [],
            "ids": [],
        }
        self.num_shards = self.num_examples = 0
        self.with_mirror: bool | None = None  # whether the shards hold mirrored_side_codes (set by the first add)

    def add(
        self,
        mono_codes: torch.Tensor,
        stereo_codes: torch.Tensor,
        width_db: torch.Tensor,
        styles: list[str | None],
        ids: list[str],
        mirrored_side_codes: torch.Tensor | None = None,
    ) -> None:
        """Add a batch of encoded examples (a mid-side layout's `mirrored_side_codes` with every batch or none)."""
        with_mirror = mirrored_side_codes is not None
        if self.with_mirror is not None and with_mirror != self.with_mirror:
            raise ValueError("give mirrored_side_codes with every batch of a token shard writer, or with none")
        self.with_mirror = with_mirror
        self.pending["mono"].append(mono_codes.cpu().numpy().astype(np.int16))
        self.pending["stereo"].append(stereo_codes.cpu().numpy().astype(np.int16))
        if mirrored_side_codes is not None:
            self.pending["mirrored"].append(mirrored_side_codes.cpu().numpy().astype(np.int16))
        self.pending["width"].append(width_db.cpu().numpy().astype(np.float32))
        self.pending["styles"] += list(styles)
        self.pending["ids"] += list(ids)
        while len(self.pending["ids"]) >= self.examples_per_shard:
            self._write(self.examples_per_shard)

    def close(self) -> int:
        """Write what is left; returns the number of shards written."""
        if self.pending["ids"]:
            self._write(len(self.pending["ids"]))
        return self.num_shards

    def _write(self, count: int) -> None:
        keys = ("mono", "stereo", "width", "mirrored") if self.with_mirror else ("mono", "stereo", "width")
        arrays = {key: np.concatenate(self.pending[key]) for key in keys}
        tensors = {"mono_codes": arrays["mono"][:count], "stereo_codes": arrays["stereo"][:count]}
        tensors["width_db"] = arrays["width"][:count]
        if "mirrored" in arrays:
            tensors["mirrored_side_codes"] = arrays["mirrored"][:count]
        metadata = {
            "ids": json.dumps(self.pending["ids"][:count]),
            "styles": json.dumps(self.pending["styles"][:count]),
            "layout": json.dumps(self.layout),
        }
        path = os.path.join(self.folder, SHARD_PATTERN.format(self.num_shards))
        save_file(tensors, path + ".tmp", metadata=metadata)
        os.replace(path + ".tmp", path)  # a shard is complete or absent
        for key in keys:
            self.pending[key] = [arrays[key][count:]]
        self.pending["styles"] = self.pending["styles"][count:]
        self.pending["ids"] = self.pending["ids"][count:]
        self.num_shards += 1
        self.num_examples += count


def list_token_shards(folder: str, must_exist: bool = True) -> list[str]:
    """The token shard files of a folder, sorted."""
    shards = sorted(glob.glob(os.path.join(folder, "tokens-*.safetensors")))
    if must_exist and not shards:
        raise ValueError(
            f"no token shards (tokens-*.safetensors) in {folder!r}; make them with `mono2stereo tokenize`"
        )
    return shards


def read_token_shard(path: str, config: Mono2StereoConfig, skipped: Counter) -> Iterator[dict]:
    """Examples of one shard: `mono_codes`, `stereo_codes`, `width_db`, `style`, `id` (and `mirrored_side_codes` when
    the shard has them); a corrupt shard is counted."""
    try:
        from safetensors import safe_open

        with safe_open(path, "numpy") as file:
            metadata = file.metadata() or {}
        tensors = load_file(path)
        ids, styles = json.loads(metadata["ids"]), json.loads(metadata["styles"])
        layout = json.loads(metadata["layout"])
    except (SafetensorError, OSError, KeyError, ValueError):
        skipped["undecodable"] += 1
        return
    if layout != codec_layout(config):
        raise ValueError(
            f"token shard {path} was made for codec layout {layout}, but the model has {codec_layout(config)}; "
            "tokenize again with this model's config"
        )
    mirrored = tensors.get("mirrored_side_codes")
    for i, example_id in enumerate(ids):
        example = {
            "mono_codes": tensors["mono_codes"][i],
            "stereo_codes": tensors["stereo_codes"][i],
            "width_db": float(tensors["width_db"][i]),
            "style": styles[i],
            "id": example_id,
        }
        if mirrored is not None:
            example["mirrored_side_codes"] = mirrored[i]
        yield example


__all__ = ["TokenShardWriter", "list_token_shards", "read_token_shard", "codec_layout", "SHARD_PATTERN"]
