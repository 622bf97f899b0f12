"""Per-track figures of `mono2stereo eval` results, and the width error that no width constant can beat.

    python benchmarks/bench_per_track.py benchmarks/results/dev-cfw-800-sample.json \
        benchmarks/results/dev-width-oracle-matched.json --metrics ild_distance_db width_error_db \
        --constant -7.0 --without sfml_doodle_pop

For each result file (the `results.json` that `mono2stereo eval --output-dir` writes, or a benchmark's file of the
same layout) a table of every track: its reference width and, per system, each metric averaged over seeds. Then
the floor for the width error of any system that makes every track equally wide: the mean distance of the
reference widths from their own median (the best constant, chosen on these very tracks), and from `--constant`
(e.g. the training songs' median width). A mean width error below the floor needs a width told per track.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def per_track(result: dict, metric: str) -> dict[str, dict[str, float]]:
    """{system: {track: the metric averaged over seeds}}."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in result["tracks"]:
        if metric in row:
            values[row["system"]][row["track"]].append(float(row[metric]))
    return {system: {track: float(np.mean(v)) for track, v in tracks.items()} for system, tracks in values.items()}


def constant_width_floor(widths: list[float], constant: float) -> float:
    """Mean |reference width - constant| (dB): the width error of a system that makes every track that wide."""
    return float(np.abs(np.asarray(widths) - constant).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="results files of `mono2stereo eval`")
    parser.add_argument("--metrics", nargs="+", default=["ild_distance_db", "coherence_distance", "width_error_db"])
    parser.add_argument("--constant", type=float, help="also the floor for this one width (dB)")
    parser.add_argument("--without", nargs="+", default=[], help="tracks left out of a second line of means")
    args = parser.parse_args()
    for path in args.results:
        result = json.loads(path.read_text())
        if "tracks" not in result or "reference_width_db" not in result:
            parser.error(f"{path}: not a results file of `mono2stereo eval` (no per-track rows or reference widths)")
        widths = result["reference_width_db"]
        tables = {metric: per_track(result, metric) for metric in args.metrics}
        systems = sorted({system for table in tables.values() for system in table})
        columns = [(metric, system) for metric in args.metrics for system in systems if system in tables[metric]]
        print(f"\n{path}")
        print("| track | ref. width (dB) | " + " | ".join(f"{system}: {metric}" for metric, system in columns) + " |")
        print("|---|---|" + "---|" * len(columns))
        for track in sorted(widths):
            cells = [tables[metric][system].get(track, float("nan")) for metric, system in columns]
            print(f"| {track} | {widths[track]:.1f} | " + " | ".join(f"{cell:.2f}" for cell in cells) + " |")
        means = [np.mean(list(tables[metric][system].values())) for metric, system in columns]
        print(f"| mean | {np.mean(list(widths.values())):.1f} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
        kept = [track for track in widths if track not in args.without]
        if len(kept) < len(widths):
            means = [np.mean([tables[metric][system][track] for track in kept]) for metric, system in columns]
            print(
                f"| mean without {', '.join(sorted(set(widths) - set(kept)))} | "
                f"{np.mean([widths[track] for track in kept]):.1f} | " + " | ".join(f"{m:.2f}" for m in means) + " |"
            )
        median = float(np.median(list(widths.values())))
        print(
            f"width error of one width for all: {constant_width_floor(list(widths.values()), median):.2f} dB at "
            f"the tracks' own median ({median:.1f} dB)",
            end="",
        )
        if args.constant is not None:
            floor = constant_width_floor(list(widths.values()), args.constant)
            print(f"; {floor:.2f} dB at {args.constant:g} dB", end="")
        print()


if __name__ == "__main__":
    main()
