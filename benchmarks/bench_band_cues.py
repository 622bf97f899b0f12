"""Where in frequency does an upmix put its level differences? Cues per band group, at the reference's own width.

    OMP_NUM_THREADS=1 python benchmarks/bench_band_cues.py --model models/cfw-800-sample \
        --refs ../shared/data/real-stereo-dev --tracks librosa_brahms librosa_fishin --max-seconds 30

For each reference track (its first `--max-seconds`), folded to mono: the reference, `dsp:allpass`, and the model
asked for the reference's own width (`target_width_db`, made exact, seed `--seed`). For each, the energy-weighted
mean |ILD| (dB) and coherence of the evaluation's ERB bands (`evaluation.metrics.spatial_cues`), averaged over
three groups of bands (low: the first 10 of 32, up to 760 Hz; mid: the next 12, to 4.3 kHz; high: the
rest), and the track's ILD and coherence distances. With the width equal, a model whose |ILD| runs above the
reference's in a band group has put its side there as level differences the reference does not have.

`--references-only` measures the references alone (no model; `--tracks` defaults to every audio file in `--refs`)
and ends with their means: how a set of records pans, to put beside another.

    python benchmarks/bench_band_cues.py --references-only --refs ~/m2s-data/corpus/productions/heldout-songs
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from mono2stereo.audio import AUDIO_EXTENSIONS
from mono2stereo.dsp import upmix_dsp
from mono2stereo.evaluation.metrics import band_means, cue_distribution_distances, spatial_cues, stereo_width_db
from mono2stereo.inference.pipeline import load_pipeline, upmix

GROUPS = {"low": slice(0, 10), "mid": slice(10, 22), "high": slice(22, None)}


def band_group_cues(cues) -> dict[str, float]:
    """Mean |ILD| (dB) and coherence per band group of a track's `spatial_cues`."""
    ild = band_means(np.abs(cues.level_difference_db), cues)
    coherence = band_means(cues.coherence, cues)
    values = {}
    for name, bands in GROUPS.items():
        values[f"ild_{name}"] = float(np.nanmean(ild[bands]))
        values[f"coh_{name}"] = float(np.nanmean(coherence[bands]))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a spatial model (a width is asked of it)")
    parser.add_argument("--refs", required=True, type=Path, help="a folder of stereo reference tracks")
    parser.add_argument("--tracks", nargs="+", help="track names in --refs, without the extension")
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--references-only", action="store_true", help="the references alone, and their means")
    args = parser.parse_args()
    if not args.references_only and (args.model is None or args.tracks is None):
        parser.error("--model and --tracks are needed, unless --references-only")
    if args.tracks is None:
        args.tracks = sorted(p.stem for p in args.refs.iterdir() if p.name.lower().endswith(AUDIO_EXTENSIONS))
    pipeline = None if args.references_only else load_pipeline(args.model)
    means = []
    header = " | ".join(f"|ILD| {g}" for g in GROUPS) + " | " + " | ".join(f"coh. {g}" for g in GROUPS)
    print(f"| track | system | width (dB) | {header} | ILD dist. | coh. dist. |")
    print("|---|---|---|" + "---|" * (2 * len(GROUPS) + 2))
    for track in args.tracks:
        matches = sorted(args.refs.glob(f"{track}.*"))
        if not matches:
            parser.error(f"no track {track} in {args.refs}")
        reference, rate = sf.read(matches[0], dtype="float32", always_2d=True)
        reference = reference[: int(args.max_seconds * rate)]
        mono = reference.mean(axis=1)
        width = stereo_width_db(reference)
        systems = {"reference": reference}
        if pipeline is not None:
            systems["dsp:allpass"] = upmix_dsp("allpass", mono, rate)
            systems["model, its width"] = upmix(mono, rate, pipeline, seed=args.seed, target_width_db=width)[0]
        reference_cues = spatial_cues(reference, rate)
        for name, stereo in systems.items():
            cues = reference_cues if stereo is reference else spatial_cues(stereo, rate)
            values = band_group_cues(cues)
            distances = cue_distribution_distances(cues, reference_cues)
            cells = [values[f"ild_{g}"] for g in GROUPS] + [values[f"coh_{g}"] for g in GROUPS]
            if stereo is reference:
                means.append([width, *cells])
            print(
                f"| {track} | {name} | {stereo_width_db(stereo):.1f} | "
                + " | ".join(f"{cell:.2f}" for cell in cells)
                + f" | {distances['ild_distance_db']:.2f} | {distances['coherence_distance']:.3f} |"
            )
    if args.references_only and means:
        width, *cells = np.mean(means, axis=0)
        median = float(np.median([row[0] for row in means]))
        print(
            f"| mean of {len(means)} | references | {width:.1f} (median {median:.1f}) | "
            + " | ".join(f"{cell:.2f}" for cell in cells)
            + " | | |"
        )


if __name__ == "__main__":
    main()
