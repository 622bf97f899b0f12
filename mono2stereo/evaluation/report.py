"""The evaluation table: per-system means over tracks, written as markdown, CSV and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .evaluate import EvaluationResult

# Column, heading and number format of the table, in order.
COLUMNS = (
    ("ild_distance_db", "ILD dist. (dB)", "{:.2f}"),
    ("coherence_distance", "Coh. dist.", "{:.3f}"),
    ("ild_error_db", "ILD err. (dB)", "{:.2f}"),
    ("coherence_error", "Coh. err.", "{:.3f}"),
    ("ipd_error_rad", "IPD err. (rad)", "{:.3f}"),
    ("ild_change_db", "ILD change (dB)", "{:.2f}"),
    ("ild_change_error_db", "ILD change err. (dB)", "{:.2f}"),
    ("width_db", "Width (dB)", "{:.1f}"),
    ("width_error_db", "Width err. (dB)", "{:.1f}"),
    ("folddown_si_sdr_db", "Fold-down SI-SDR (dB)", "{:.1f}"),
    ("folddown_lsd_db", "Fold-down LSD (dB)", "{:.2f}"),
)
UNITS_NOTE = (
    "Means over tracks. ILD/coherence distances: per ERB band, the Wasserstein distance between the energy-weighted"
    " distributions over ~93 ms tiles of |ILD| (dB) or coherence (0-1), averaged over bands. Errors: tile-by-tile"
    " mean absolute difference, weighted by the reference's energy. ILD change: mean |ILD| step from one tile to"
    " the next (a source held in place moves little, one that jumps side to side a lot), and its error against"
    " the reference's. Width: side-to-mid energy ratio (dB; dual mono floors at -60). Fold-down: (L+R)/2 of the"
    " upmix against the mono input; SI-SDR is capped at 100 dB (exact). A model scored with several seeds is"
    " averaged over tracks and seeds; `±` is the spread (standard deviation) of its per-seed means."
)


def system_means(result: EvaluationResult) -> list[dict]:
    """Per system, the mean of every score over tracks and seeds, sorted by system name.

    With several seeds, `NAME_seed_std` is the standard deviation over seeds of the per-seed means over tracks.
    """
    summary = []
    for system in sorted({row["system"] for row in result.rows}):
        rows = [row for row in result.rows if row["system"] == system]
        seeds = sorted({row.get("seed") for row in rows}, key=lambda s: (s is None, s))
        means = {name: float(np.mean([row[name] for row in rows])) for name, _, _ in COLUMNS}
        entry = {"system": system, "tracks": len({r["track"] for r in rows}), "seeds": len(seeds)}
        entry.update(variants=rows[0]["variants"], **means)
        if len(seeds) > 1:
            for name, _, _ in COLUMNS:
                per_seed = [np.mean([r[name] for r in rows if r.get("seed") == s]) for s in seeds]
                entry[f"{name}_seed_std"] = float(np.std(per_seed))
        summary.append(entry)
    return summary


def markdown_table(result: EvaluationResult) -> str:
    """The per-system means as a markdown table, with the units and the reference width."""
    header = "| System | Tracks | Seeds | " + " | ".join(heading for _, heading, _ in COLUMNS) + " |"
    rule = "|" + "---|" * (len(COLUMNS) + 3)
    lines = [header, rule]
    for row in system_means(result):
        cells = [
            fmt.format(row[name]) + (" ± " + fmt.format(row[f"{name}_seed_std"]) if f"{name}_seed_std" in row else "")
            for name, _, fmt in COLUMNS
        ]
        lines.append(f"| {row['system']} | {row['tracks']} | {row['seeds']} | " + " | ".join(cells) + " |")
    reference_width = np.mean(list(result.reference_widths_db.values()))
    reference_change = np.nanmean(list(result.reference_ild_changes_db.values()))
    lines += [
        "",
        f"Reference width: {reference_width:.1f} dB, ILD change: {reference_change:.2f} dB (means over tracks)."
        f" {UNITS_NOTE}",
    ]
    return "\n".join(lines) + "\n"


def write_tables(result: EvaluationResult, output_dir: str | Path) -> list[Path]:
    """Write `results.md`, `results.csv` (means), `results_per_track.csv` and `results.json`; returns the paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    means = system_means(result)
    spreads = [f"{name}_seed_std" for name, _, _ in COLUMNS if any(f"{name}_seed_std" in row for row in means)]
    fields = ["system", "tracks", "seeds", "variants", *(name for name, _, _ in COLUMNS), *spreads]
    paths = [output_dir / name for name in ("results.md", "results.csv", "results_per_track.csv", "results.json")]

    paths[0].write_text(markdown_table(result))
    with paths[1].open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(means)  # a DSP system has no spread: its cells stay empty
    per_track = sorted(result.rows, key=lambda row: (row["system"], row["track"], row.get("seed") or 0))
    with paths[2].open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["system", "track", "seed", "variants", *(n for n, _, _ in COLUMNS)]
        )
        writer.writeheader()
        writer.writerows(per_track)
    document = {
        "units": UNITS_NOTE,
        "systems": means,
        "tracks": per_track,
        "reference_width_db": result.reference_widths_db,
        "reference_ild_change_db": result.reference_ild_changes_db,
    }
    paths[3].write_text(json.dumps(document, indent=2) + "\n")
    return paths
