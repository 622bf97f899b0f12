"""The spatial codec's bound: the scores of a perfect spatial-token upmixer, which generates the reference's own cues.

    python benchmarks/bench_spatial_codec_bound.py --refs ../shared/data/real-stereo-dev [--max-seconds 30]

Each reference is folded to mono; its true cues are analysed at the codec's rate, passed through the tokenizer
(or not: "unquantised"), and synthesised against the mono at the reference's rate, as the pipeline renders generated
tokens. The scores are `mono2stereo eval`'s metrics against the reference; `dsp:allpass` is printed beside them.
"""

from __future__ import annotations

import argparse
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


def bound_systems(codec: SpatialCodec, stereo: np.ndarray, rate: int) -> dict[str, np.ndarray]:
    """The upmixes of one reference `(samples, 2)` at `rate` from its own cues, quantised and not."""
    mono = fold_down(stereo)
    coded = resample(stereo, rate, codec.config.sampling_rate)
    cues = codec.analyze(torch.from_numpy(np.ascontiguousarray(coded.T))[None])
    quantised = codec.detokenize(codec.tokenize(cues))
    return {
        "spatial codec, unquantised cues": codec.synthesize(mono, cues[0].numpy(), rate),
        "spatial codec, tokens": codec.synthesize(mono, quantised[0].numpy(), rate),
        "dsp:allpass": upmix_dsp("dsp:allpass", mono, rate),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", required=True, help="a folder of stereo reference tracks")
    parser.add_argument("--max-seconds", type=float, default=None, help="crop each reference to its start")
    parser.add_argument("--config", default=None, help="a SpatialCodecConfig JSON (default: the default config)")
    args = parser.parse_args()
    config = SpatialCodecConfig.from_json_file(args.config) if args.config else SpatialCodecConfig()
    codec = SpatialCodec(config)
    scores: dict[str, list[dict]] = {}
    for path in reference_files(args.refs):
        reference = load_reference(path, args.max_seconds)
        mono = fold_down(reference.stereo)
        for name, upmix in bound_systems(codec, reference.stereo, reference.sampling_rate).items():
            scores.setdefault(name, []).append(evaluate_upmix(upmix, reference.stereo, mono, reference.sampling_rate))
    print(f"refs: {args.refs} ({len(next(iter(scores.values())))} tracks); machine: {platform.machine()}")
    shape = f"{config.num_codebooks} codebooks of {config.codebook_size}"
    print(f"codec: {config.num_bands} bands, {config.frame_rate:g} frames/s, {shape}")
    print("| system | " + " | ".join(METRICS.values()) + " |")
    print("|---|" + "---|" * len(METRICS))
    for name, rows in scores.items():
        means = [np.mean([row[key] for row in rows]) for key in METRICS]
        print(f"| {name} | " + " | ".join(f"{value:.3f}" for value in means) + " |")


if __name__ == "__main__":
    main()
