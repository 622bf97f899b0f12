"""The spatial codec's bound: the scores of a perfect spatial-token upmixer, which generates the reference's own cues.

    python benchmarks/bench_spatial_codec_bound.py --refs ../shared/data/real-stereo-dev [--max-seconds 30] \\
        [--max-files 120] [--rvq runs/spatial-32k-rvq ...]

Each reference is folded to mono; its true cues are analysed at the codec's rate, passed through a tokenizer (or
not: "unquantised"), and synthesised against the mono at the reference's rate, as the pipeline renders generated
tokens. The tokenizers are the scalar grids of the config and, for each `--rvq` folder (written by
`python -m mono2stereo.training.spatial_rvq_fit`), its residual VQ. The scores are `mono2stereo eval`'s metrics
against the reference; `dsp:allpass` is printed beside them. Bits per second are the tokens' nominal rate,
codebooks x log2(codebook size) x frames per second.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform

import numpy as np
import torch

from mono2stereo.dsp import upmix_dsp
from mono2stereo.evaluation.evaluate import load_reference, reference_files
from mono2stereo.evaluation.metrics import evaluate_upmix, fold_down
from mono2stereo.inference.resampling import resample
from mono2stereo.modeling.spatial_codec import SpatialCodec, SpatialCodecConfig

METRICS = {
    "ild_distance_db": "ILD dist. (dB)",
    "coherence_distance": "Coh. dist.",
    "ild_error_db": "ILD err. (dB)",
    "coherence_error": "Coh. err.",
    "width_error_db": "Width err. (dB)",
    "folddown_si_sdr_db": "Fold-down SI-SDR (dB)",
}
ANALYSIS_FIELDS = (
    "sampling_rate",
    "hop_length",
    "frame_length",
    "num_bands",
    "lowest_hz",
    "highest_hz",
    "smoothing_frames",
)


def bits_per_second(config: SpatialCodecConfig) -> float:
    """The tokens' nominal bit rate: codebooks x log2(codebook size) x frames per second."""
    return config.num_codebooks * math.log2(config.codebook_size) * config.frame_rate


def tokenizer_name(config: SpatialCodecConfig, folder: str | None = None) -> str:
    """A row name: the tokenizer, its codebooks (and ILD scale and folder, for rvq) and its bit rate."""
    if config.is_rvq:
        name = os.path.basename(os.path.normpath(folder)) if folder else "rvq"
        shape = f"rvq {config.rvq_codebooks} x {config.rvq_size}, {config.rvq_ild_scale_db:g} dB ({name})"
    else:
        shape = f"scalar {config.num_codebooks} x {config.codebook_size}"
    return f"spatial codec, {shape} tokens, {bits_per_second(config) / 1000:.2f} kbit/s"


def rvq_codec(folder: str, analysis: SpatialCodecConfig) -> SpatialCodec:
    """The spatial codec of a `spatial_rvq_fit` folder, with its tables; it must analyse as `analysis` does."""
    with open(os.path.join(folder, "config.json")) as file:
        values = {k: v for k, v in json.load(file)["codec"].items() if k != "model_type"}
    config = SpatialCodecConfig(**values)
    for field in ANALYSIS_FIELDS:
        if getattr(config, field) != getattr(analysis, field):
            raise ValueError(
                f"{folder}: codec {field}={getattr(config, field)!r} differs from the benchmarked config's "
                f"{getattr(analysis, field)!r}; pass that config with --config"
            )
    codec = SpatialCodec(config)
    codec.rvq.load_tables(folder)
    return codec


def bound_systems(
    codec: SpatialCodec, stereo: np.ndarray, rate: int, tokenizers: dict[str, SpatialCodec] | None = None
) -> dict[str, np.ndarray]:
    """The upmixes of one reference `(samples, 2)` at `rate` from its own cues, unquantised and through the scalar
    tokens of `codec` and each of `tokenizers` (by row name)."""
    mono = fold_down(stereo)
    coded = resample(stereo, rate, codec.config.sampling_rate)
    cues = codec.analyze(torch.from_numpy(np.ascontiguousarray(coded.T))[None])
    systems = {"spatial codec, unquantised cues": codec.synthesize(mono, cues[0].numpy(), rate)}
    for name, tokenizer in {tokenizer_name(codec.config): codec, **(tokenizers or {})}.items():
        quantised = tokenizer.detokenize(tokenizer.tokenize(cues))
        systems[name] = tokenizer.synthesize(mono, quantised[0].numpy(), rate)
    systems["dsp:allpass"] = upmix_dsp("dsp:allpass", mono, rate)
    return systems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", required=True, help="a folder of stereo reference tracks")
    parser.add_argument("--max-seconds", type=float, default=None, help="crop each reference to its start")
    parser.add_argument("--config", default=None, help="a SpatialCodecConfig JSON (default: the default config)")
    parser.add_argument("--max-files", type=int, default=None, help="at most this many references, spread by name")
    parser.add_argument("--rvq", action="append", default=[], help="a spatial_rvq_fit folder (repeatable)")
    args = parser.parse_args()
    config = SpatialCodecConfig.from_json_file(args.config) if args.config else SpatialCodecConfig()
    codec = SpatialCodec(config)
    tokenizers = {}
    for folder in args.rvq:
        rvq = rvq_codec(folder, config)
        tokenizers[tokenizer_name(rvq.config, folder)] = rvq
    scores: dict[str, list[dict]] = {}
    files = reference_files(args.refs)
    if args.max_files is not None and len(files) > args.max_files:
        files = [files[i * len(files) // args.max_files] for i in range(args.max_files)]
    for path in files:
        reference = load_reference(path, args.max_seconds)
        mono = fold_down(reference.stereo)
        systems = bound_systems(codec, reference.stereo, reference.sampling_rate, tokenizers)
        for name, upmix in systems.items():
            scores.setdefault(name, []).append(evaluate_upmix(upmix, reference.stereo, mono, reference.sampling_rate))
    print(f"refs: {args.refs} ({len(next(iter(scores.values())))} tracks); machine: {platform.machine()}")
    print(f"codec: {config.num_bands} bands, {config.frame_rate:g} frames/s")
    print("| system | " + " | ".join(METRICS.values()) + " |")
    print("|---|" + "---|" * len(METRICS))
    for name, rows in scores.items():
        means = [np.mean([row[key] for row in rows]) for key in METRICS]
        print(f"| {name} | " + " | ".join(f"{value:.3f}" for value in means) + " |")


if __name__ == "__main__":
    main()
