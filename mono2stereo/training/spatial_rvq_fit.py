"""Fitting the spatial codec's `rvq` tables: a mirror-closed k-means per stage on the cues of training songs.

    python -m mono2stereo.training.spatial_rvq_fit --audio ~/m2s-data/corpus/train \\
        --config configs/model/spatial-32k.json --output runs/spatial-32k-rvq --max-files 150

writes `OUTPUT/config.json`, the model config with the codec's `tokenizer: rvq` (`--codebooks` stages of `--size`
entries), and `OUTPUT/spatial_rvq.safetensors`, the tables. Train on it with `model: {config: OUTPUT/config.json,
codec: OUTPUT}`: the new model's codec takes the tables from the `codec` folder and saves them in its own
`model.safetensors`. Fit on training songs only, never on the songs a model is evaluated on.

Each stage is a k-means over the residuals the stages before it left, restricted to mirror-closed tables: it is
k-means over the frames and their mirrors together whose centroids are mirrored pairs `(u, v), (-u, v)` and
self-mirror ones `(0, w)`, so a pair's centroid is the mean of its frames with the level differences of those
nearer the mirror member negated. Frames are assigned as tokenizing assigns them (`nearest_entries`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from ..audio import AUDIO_EXTENSIONS
from ..inference.resampling import resample
from ..modeling.spatial_codec import SpatialCodec, SpatialCodecConfig
from ..modeling.spatial_rvq import (
    ENCODE_CHUNK,
    ResidualCueQuantizer,
    mirror_closed_table,
    nearest_entries,
    self_mirror_count,
)


def audio_files(folder: str | os.PathLike, max_files: int | None = None, seed: int = 0) -> list[Path]:
    """Up to `max_files` audio files of `folder` (a seeded random choice when it holds more), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"audio folder {str(folder)!r} does not exist; give a folder of stereo training songs")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ValueError(f"audio folder {str(folder)!r} has no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    if max_files is not None and len(files) > max_files:
        chosen = np.random.default_rng(seed).choice(len(files), max_files, replace=False)
        files = [files[i] for i in sorted(chosen)]
    return files


def cue_vectors(codec: SpatialCodec, quantizer: ResidualCueQuantizer, files: list[Path], progress: bool = False):
    """The quantised vectors `(frames, 2 * bands)` of every frame of the stereo files (mono files are skipped)."""
    rate, vectors = codec.config.sampling_rate, []
    for path in tqdm(files, desc="analysing", unit="file", disable=not progress):
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
        if audio.shape[1] != 2:
            continue
        stereo = torch.from_numpy(np.ascontiguousarray(resample(audio, file_rate, rate).T))
        vectors.append(quantizer.vectors(codec.analyze(stereo[None])[0]))
    if not vectors:
        raise ValueError(f"none of the {len(files)} audio files is stereo; the tables are fitted on stereo songs")
    return torch.cat(vectors)


def fit_stage(
    residual: torch.Tensor, size: int, iterations: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One stage's mirror-closed k-means table `(size, 2B)` and its mirror `(size,)` on `residual (N, 2B)`."""
    bands, own_count = residual.shape[1] // 2, self_mirror_count(size)
    pairs = (size - own_count) // 2
    seeds = residual[torch.randint(len(residual), (own_count + pairs,), generator=generator)]
    own, pair_ild, pair_coherence = seeds[:own_count, bands:], seeds[own_count:, :bands], seeds[own_count:, bands:]
    for _ in range(iterations):
        sums = torch.zeros(own_count + pairs, 2 * bands)
        counts = torch.zeros(own_count + pairs)
        for chunk in residual.split(ENCODE_CHUNK):
            choice, sign = nearest_entries(chunk, own, pair_ild, pair_coherence)
            signed = torch.cat([torch.where(sign[:, None], chunk[:, :bands], -chunk[:, :bands]), chunk[:, bands:]], 1)
            sums.index_add_(0, choice, signed)
            counts += torch.bincount(choice, minlength=own_count + pairs)
        means = sums / counts.clamp(min=1)[:, None]
        empty = counts == 0  # re-seeded from random frames
        means[empty] = residual[torch.randint(len(residual), (int(empty.sum()),), generator=generator)]
        own, pair_ild, pair_coherence = means[:own_count, bands:], means[own_count:, :bands], means[own_count:, bands:]
    return mirror_closed_table(own, pair_ild, pair_coherence)


def fit_quantizer(
    config: SpatialCodecConfig, vectors: torch.Tensor, iterations: int = 20, seed: int = 0
) -> ResidualCueQuantizer:
    """A quantizer for `config` (`tokenizer: rvq`) whose tables are fitted stage by stage on `vectors (N, 2B)`."""
    if not config.is_rvq:
        raise ValueError(f"SpatialCodecConfig.tokenizer={config.tokenizer!r}: fitting tables needs tokenizer 'rvq'")
    quantizer, generator = ResidualCueQuantizer(config), torch.Generator().manual_seed(seed)
    residual, tables, mirrors = vectors.float(), [], []
    for stage in range(config.rvq_codebooks):
        table, mirror = fit_stage(residual, config.rvq_size, iterations, generator)
        quantizer.tables[stage], quantizer.mirror[stage] = table, mirror
        code = torch.cat([quantizer.encode_stage(chunk, stage) for chunk in residual.split(ENCODE_CHUNK)])
        residual = residual - table[code]
        tables.append(table)
        mirrors.append(mirror)
    quantizer.set_tables(torch.stack(tables), torch.stack(mirrors))  # checks the closure
    return quantizer


def fit_spatial_rvq(
    audio: str | os.PathLike,
    model_config: str | os.PathLike,
    output: str | os.PathLike,
    codebooks: int | None = None,
    size: int | None = None,
    ild_scale_db: float | None = None,
    max_files: int | None = 150,
    iterations: int = 20,
    seed: int = 0,
    progress: bool = False,
) -> ResidualCueQuantizer:
    """Fit the tables of the spatial model config `model_config` made `rvq` on the songs of `audio`, and write the
    config and tables to `output` (see the module)."""
    with open(model_config) as file:
        values = json.load(file)
    codec_values = dict(values.get("codec") or {})
    if codec_values.get("model_type") != SpatialCodecConfig.model_type:
        raise ValueError(
            f"{model_config} is not a spatial model config (its codec is not {SpatialCodecConfig.model_type})"
        )
    codec_values["tokenizer"] = "rvq"
    for field, value in (("rvq_codebooks", codebooks), ("rvq_size", size), ("rvq_ild_scale_db", ild_scale_db)):
        if value is not None:
            codec_values[field] = value
    config = SpatialCodecConfig(**{k: v for k, v in codec_values.items() if k != "model_type"})
    for field in ("rvq_codebooks", "rvq_size", "rvq_ild_scale_db"):  # written out, whatever the defaults become
        codec_values[field] = getattr(config, field)
    codec = SpatialCodec(config)
    vectors = cue_vectors(codec, codec.rvq, audio_files(audio, max_files, seed), progress)
    quantizer = fit_quantizer(config, vectors, iterations, seed)
    values["codec"] = codec_values
    values.pop("transformers_version", None)
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "config.json"), "w") as file:
        json.dump(values, file, indent=2)
        file.write("\n")
    quantizer.save_tables(output)
    return quantizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mono2stereo.training.spatial_rvq_fit", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--audio", required=True, help="a folder of stereo training songs (never evaluation tracks)")
    parser.add_argument(
        "--config", required=True, help="a spatial model config JSON, e.g. configs/model/spatial-32k.json"
    )
    parser.add_argument("--output", required=True, help="the folder to write config.json and the tables to")
    parser.add_argument("--codebooks", type=int, default=None, help="residual stages (default: the config's, or 8)")
    parser.add_argument("--size", type=int, default=None, help="entries per stage (default: the config's, or 1024)")
    parser.add_argument("--ild-scale-db", type=float, default=None, help="dB weighing as a coherence step of 1 (10)")
    parser.add_argument("--max-files", type=int, default=150, help="songs fitted on, a seeded choice (default 150)")
    parser.add_argument("--iterations", type=int, default=20, help="k-means iterations per stage (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        fit_spatial_rvq(
            args.audio,
            args.config,
            args.output,
            args.codebooks,
            args.size,
            args.ild_scale_db,
            args.max_files,
            args.iterations,
            args.seed,
            progress=True,
        )
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {os.path.join(args.output, 'config.json')} and its rvq tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
