"""Raw stereo data sources, each split into shards: synthetic and multitrack mixes, folders, webdataset tars, Hub sets.

A source lists its shards (`source_shards`) and reads one shard (`read_shard`) as examples
`{"audio": (2, samples) float32 numpy at the codec's rate, "style": tag or None, "id": str}`. Shards are what
`datasets` splits across processes. An example that cannot be decoded is counted in `skipped` and dropped.
"""

from __future__ import annotations

import glob
import io
import json
import os
import tarfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import soundfile
import soxr

from ..audio import AUDIO_EXTENSIONS
from .config import SourceConfig
from .synthetic import SyntheticMixes


class UndecodableAudio(ValueError):
    """An audio file or record that cannot be turned into stereo float32."""


def decode_stereo(data: str | bytes | os.PathLike, sampling_rate: int) -> np.ndarray:
    """Decode a file path or encoded bytes into stereo `(2, samples)` float32 at `sampling_rate`, all channels kept.

    Mono files become two equal channels; files with more than two channels are refused.
    """
    try:
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        audio, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for broken data
        raise UndecodableAudio(f"cannot decode audio: {error}") from error
    if audio.shape[1] == 1:
        audio = np.repeat(audio, 2, axis=1)
    if audio.shape[1] != 2:
        raise UndecodableAudio(f"audio has {audio.shape[1]} channels; training takes mono or stereo")
    if audio.shape[0] == 0 or not np.isfinite(audio).all():
        raise UndecodableAudio("audio is empty or holds NaN/inf samples")
    if rate != sampling_rate:
        audio = soxr.resample(audio, rate, sampling_rate)
    return np.ascontiguousarray(audio.T, dtype=np.float32)


def list_audio_files(folder: str) -> list[str]:
    """Audio files under `folder` (recursively), sorted so every process sees the same list."""
    if not os.path.isdir(folder):
        raise ValueError(f"data folder {folder!r} does not exist")
    files = []
    for root, _, names in os.walk(folder):
        files += [os.path.join(root, name) for name in names if name.lower().endswith(AUDIO_EXTENSIONS)]
    if not files:
        raise ValueError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {folder!r}")
    return sorted(files)


def source_shards(source: SourceConfig) -> list[Any]:
    """The shards of a source, in a fixed order."""
    if source.kind in ("synthetic", "multitrack"):
        edges = np.linspace(0, source.num_mixes, min(source.num_shards, source.num_mixes) + 1).astype(int)
        return [[int(start), int(stop)] for start, stop in zip(edges[:-1], edges[1:])]
    if source.kind == "folder":
        return list_audio_files(source.path)
    if source.kind == "webdataset":
        tars = (
            sorted(glob.glob(source.path))
            if not os.path.isdir(source.path)
            else sorted(glob.glob(os.path.join(source.path, "*.tar")))
        )
        if not tars:
            raise ValueError(f"no tar shards match {source.path!r}")
        return tars
    if source.kind == "hub":
        return list(range(hub_dataset(source).num_shards))
    raise ValueError(f"source kind {source.kind!r} has no audio shards")


def read_shard(source: SourceConfig, shard: Any, sampling_rate: int, skipped: Counter) -> Iterator[dict]:
    """Examples of one shard; undecodable ones are counted in `skipped["undecodable"]` and dropped."""
    if source.kind == "synthetic":
        mixes = SyntheticMixes(source.num_mixes, sampling_rate, source.duration_s, source.styles, source.seed)
        for index in range(*shard):
            mix = mixes[index]
            yield {"audio": mix["audio"].numpy(), "style": mix["style"], "id": mix["id"]}
    elif source.kind == "multitrack":
        from .multitrack import MultitrackMixes  # needs fluidsynth only when used

        mixes = MultitrackMixes(
            source.num_mixes,
            sampling_rate,
            source.duration_s,
            source.styles,
            source.seed,
            source.soundfont,
            source.path,
            source.midi_share,
        )
        for index in range(*shard):
            mix = mixes[index]
            yield {"audio": mix["audio"], "style": mix["style"], "id": mix["id"], "positions": mix["positions"]}
    elif source.kind == "folder":
        try:
            yield {"audio": decode_stereo(shard, sampling_rate), "style": source.style, "id": shard}
        except UndecodableAudio:
            skipped["undecodable"] += 1
    elif source.kind == "webdataset":
        yield from _read_tar(source, shard, sampling_rate, skipped)
    elif source.kind == "hub":
        yield from _read_hub_shard(source, shard, sampling_rate, skipped)
    else:
        raise ValueError(f"source kind {source.kind!r} has no audio shards")


def _read_tar(source: SourceConfig, path: str, sampling_rate: int, skipped: Counter) -> Iterator[dict]:
    """Webdataset layout: members `KEY.flac` (or another audio extension) and optional `KEY.json` with a style."""
    records: dict[str, dict[str, bytes]] = {}
    order: list[str] = []
    try:
        with tarfile.open(path, "r|*") as tar:  # streamed, as the layout intends
            for member in tar:
                if not member.isfile():
                    continue
                directory, name = os.path.split(member.name)
                key, _, extension = name.partition(".")
                key = os.path.join(directory, key)
                if key not in records:
                    records[key], order = {}, order + [key]
                records[key][extension.lower()] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError):
        skipped["undecodable"] += 1  # a truncated tar: keep what was read before the damage
    for key in order:
        record = records[key]
        audio_ext = next((ext for ext in record if "." + ext in AUDIO_EXTENSIONS), None)
        if audio_ext is None:
            continue
        try:
            audio = decode_stereo(record[audio_ext], sampling_rate)
        except UndecodableAudio:
            skipped["undecodable"] += 1
            continue
        style = source.style
        if "json" in record:
            try:
                style = json.loads(record["json"]).get("style", style)
            except (ValueError, AttributeError):
                pass
        yield {"audio": audio, "style": style, "id": f"{path}:{key}"}


def hub_dataset(source: SourceConfig):
    """The streamed `datasets.IterableDataset` of a Hub id or a dataset repository on local disk."""
    import datasets

    dataset = datasets.load_dataset(
        source.path, source.name, split=source.split, streaming=True, revision=source.revision
    )
    if source.audio_column not in (dataset.column_names or [source.audio_column]):
        raise ValueError(
            f"dataset {source.path!r} has no audio column {source.audio_column!r}; its columns are "
            f"{dataset.column_names} (set audio_column)"
        )
    # decode=False: the decoded "array" is a mono downmix; soundfile on the bytes keeps both channels.
    return dataset.cast_column(source.audio_column, datasets.Audio(decode=False))


def _read_hub_shard(source: SourceConfig, index: int, sampling_rate: int, skipped: Counter) -> Iterator[dict]:
    dataset = hub_dataset(source)
    for position, example in enumerate(dataset.shard(num_shards=dataset.num_shards, index=index)):
        audio = example[source.audio_column] or {}
        data = audio.get("bytes") or audio.get("path")
        try:
            if not data:
                raise UndecodableAudio("the audio column is empty")
            decoded = decode_stereo(data, sampling_rate)
        except UndecodableAudio:
            skipped["undecodable"] += 1
            continue
        style = example.get(source.style_column) if source.style_column else source.style
        yield {"audio": decoded, "style": style, "id": f"{source.path}:{index}:{position}"}


__all__ = ["decode_stereo", "list_audio_files", "source_shards", "read_shard", "hub_dataset", "UndecodableAudio"]
