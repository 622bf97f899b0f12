"""How much of the side's correlated part should the keep-mid render rebuild from the input? A sweep.

    python benchmarks/bench_render_share.py --model runs/default-24k-ms --refs data/heldout-eval --seeds 0 1 \
        --shares 0 0.25 0.5 0.75

Each reference is folded to mono and upmixed once per seed with the `codec` render (the decoded stereo as
generated); that one generation is then rendered `keep-mid` with every share (`render_keep_mid(..., coherent=)`)
and scored with `mono2stereo eval`'s metrics. Means over tracks and seeds. Choose the share on songs that are not
the evaluation set.
"""

from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

from mono2stereo import upmix
from mono2stereo.evaluation.evaluate import load_reference, reference_files
from mono2stereo.evaluation.metrics import fold_down, scores_from_cues, spatial_cues
from mono2stereo.inference.rendering import render_keep_mid

METRICS = ("ild_distance_db", "coherence_distance", "width_db", "width_error_db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model folder or Hub id")
    parser.add_argument("--refs", required=True, help="folder of real stereo music")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75])
    args = parser.parse_args()

    scores: dict[float, list[dict]] = {share: [] for share in args.shares}
    files = reference_files(args.refs)
    for path in tqdm(files, desc="tracks"):
        reference = load_reference(path)
        rate, mono = reference.sampling_rate, fold_down(reference.stereo)
        reference_cues = spatial_cues(reference.stereo, rate)
        for seed in args.seeds:
            generated, _ = upmix(mono, rate, model=args.model, render="codec", seed=seed)
            generated = np.asarray(generated, dtype=np.float32)
            for share in args.shares:
                stereo = render_keep_mid(mono, generated, rate, coherent=share)
                cues = spatial_cues(stereo, rate)
                scores[share].append(scores_from_cues(stereo, cues, reference.stereo, reference_cues, mono, rate))

    print(f"{args.model} on {len(files)} tracks of {args.refs}, seeds {args.seeds}")
    print("| share | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for share, rows in scores.items():
        print(f"| {share:g} | " + " | ".join(f"{np.mean([row[m] for row in rows]):.3f}" for m in METRICS) + " |")


if __name__ == "__main__":
    main()
