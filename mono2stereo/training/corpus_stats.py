"""A corpus card for any folder of stereo music: hours, widths, L/R correlations and per-band level differences.

`python -m mono2stereo.training.corpus_stats FOLDER [--compare OTHER] -o OUT/` reads the audio files under FOLDER
(a prepared corpus with `MANIFEST.tsv`, or any folder of stereo files), measures each file's width (side-to-mid
energy ratio), L/R correlation and energy-weighted |level difference| per ERB band (`evaluation.metrics`), and
writes `OUT/card.md` (tables), `OUT/files.tsv` (one line per file) and `OUT/corpus_stats.png` (width and
correlation distributions and the per-band level differences, against OTHER when given).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import soundfile
import soxr
from tqdm.auto import tqdm

from ..evaluation.metrics import band_means, spatial_cues, stereo_width_db
from .sources import list_audio_files

STATS_RATE = 32000  # level differences are measured at one rate, so every folder shares the band grid
NUM_BANDS = 32


@dataclass
class FileStats:
    """What one stereo file measures."""

    path: str
    group: str  # the top folder under the corpus (a split), or "." for files at its root
    duration_s: float
    width_db: float
    lr_correlation: float
    band_ild_db: np.ndarray  # (NUM_BANDS,) energy-weighted mean |level difference| per ERB band


def measure_file(path: str, root: str) -> FileStats | None:
    """Measure a stereo file; None for a file that cannot be read or is not stereo."""
    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception:  # soundfile raises several types for files it cannot read
        return None
    if audio.shape[1] != 2 or len(audio) < rate:
        return None
    if rate != STATS_RATE:
        audio = soxr.resample(audio, rate, STATS_RATE)
    centred = (audio - audio.mean(axis=0)).astype(np.float64)
    energies = (centred**2).sum(axis=0)
    lr = float((centred[:, 0] * centred[:, 1]).sum() / np.sqrt(energies.prod())) if energies.min() > 0 else 1.0
    cues = spatial_cues(audio, STATS_RATE, NUM_BANDS)
    rel = os.path.relpath(path, root)
    group = rel.split(os.sep)[0] if os.sep in rel else "."
    return FileStats(
        path,
        group,
        len(audio) / STATS_RATE,
        stereo_width_db(audio),
        lr,
        band_means(np.abs(cues.level_difference_db), cues),
    )


def measure_folder(folder: str, max_files: int | None = None) -> list[FileStats]:
    """Measure up to `max_files` files of a folder, spread evenly over its sorted file list."""
    files = list_audio_files(folder)
    if max_files and len(files) > max_files:
        files = [files[i] for i in np.linspace(0, len(files) - 1, max_files).astype(int)]
    measured = [measure_file(path, folder) for path in tqdm(files, desc=f"measuring {folder}", unit="file")]
    return [stats for stats in measured if stats is not None]


def read_manifest(folder: str) -> list[dict] | None:
    """The rows of a prepared corpus's `MANIFEST.tsv`, or None when the folder has none."""
    path = os.path.join(folder, "MANIFEST.tsv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as table:
        return list(csv.DictReader(table, delimiter="\t"))


def _percentiles(values: list[float]) -> str:
    p = np.percentile(values, [5, 25, 50, 75, 95])
    return " / ".join(f"{v:.2f}" for v in p)  # one table cell


def card(folder: str, stats: list[FileStats], manifest: list[dict] | None, compare: list[FileStats] | None) -> str:
    """The corpus card as Markdown tables."""
    lines = [f"Corpus: `{folder}`", ""]
    if manifest:
        per_split, per_package = defaultdict(float), defaultdict(lambda: [0, 0.0, "", ""])
        for row in manifest:
            hours = float(row["duration_s"]) / 3600
            per_split[row["split"]] += hours
            entry = per_package[row["package"]]
            entry[0] += 1
            entry[1] += hours
            entry[2], entry[3] = row["split"], row.get("genre", "")
        lines += ["| Split | Songs | Hours |", "|---|---|---|"]
        for split in sorted(per_split):
            songs = sum(1 for r in manifest if r["split"] == split)
            lines.append(f"| {split} | {songs} | {per_split[split]:.2f} |")
        lines += ["", "| Package | Split | Genre | Songs | Hours |", "|---|---|---|---|---|"]
        for package, (songs, hours, split, genre) in sorted(per_package.items(), key=lambda kv: (kv[1][2], -kv[1][1])):
            lines.append(f"| {package} | {split} | {genre} | {songs} | {hours:.2f} |")
        lines.append("")
    groups = defaultdict(list)
    for item in stats:
        groups[item.group].append(item)
    lines += [
        "| Files measured | Hours | Width 5/25/50/75/95 % (dB) | L/R correlation 5/25/50/75/95 % |",
        "|---|---|---|---|",
    ]
    named = [(f"{folder} {group}", items) for group, items in sorted(groups.items())]
    if compare:
        named.append(("compared", compare))
    for name, items in named:
        hours = sum(i.duration_s for i in items) / 3600
        widths, correlations = [i.width_db for i in items], [i.lr_correlation for i in items]
        lines.append(f"| {name}: {len(items)} | {hours:.2f} | {_percentiles(widths)} | {_percentiles(correlations)} |")
    return "\n".join(lines) + "\n"


def plot(stats: list[FileStats], compare: list[FileStats] | None, path: str, label: str, compare_label: str) -> None:
    """Width and L/R correlation histograms and the median per-band |level difference|, against `compare`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..dsp.bands import erb_bands, frame_length_for

    centres = erb_bands(STATS_RATE, frame_length_for(STATS_RATE), NUM_BANDS).centres_hz
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    sets = [(label, stats, "tab:blue")] + ([(compare_label, compare, "tab:orange")] if compare else [])
    for name, items, colour in sets:
        kwargs = dict(density=True, alpha=0.5, color=colour, label=f"{name} ({len(items)} files)")
        axes[0].hist([i.width_db for i in items], bins=np.linspace(-30, 5, 36), **kwargs)
        axes[1].hist([i.lr_correlation for i in items], bins=np.linspace(-0.2, 1, 25), **kwargs)
        ild = np.stack([i.band_ild_db for i in items])
        with warnings.catch_warnings():  # bands above a file's Nyquist are empty (NaN) everywhere
            warnings.simplefilter("ignore", RuntimeWarning)
            median, low, high = np.nanpercentile(ild, [50, 25, 75], axis=0)
        axes[2].plot(centres, median, color=colour, label=f"{name} median")
        axes[2].fill_between(centres, low, high, color=colour, alpha=0.2)
    axes[0].set(xlabel="width: side/mid energy (dB)", ylabel="density", title="Width per file")
    axes[1].set(xlabel="L/R correlation", title="L/R correlation per file")
    axes[2].set(xscale="log", xlabel="ERB band centre (Hz)", ylabel="|level difference| (dB)")
    axes[2].set_title("Per-band |L/R level difference| (median, 25-75 %)")
    for axis in axes:
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _write_files(path: str, stats: list[FileStats]) -> None:
    with open(path, "w", newline="") as table:
        writer = csv.writer(table, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "group", "duration_s", "width_db", "lr_correlation"])
        for s in stats:
            writer.writerow([s.path, s.group, f"{s.duration_s:.1f}", f"{s.width_db:.2f}", f"{s.lr_correlation:.3f}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mono2stereo.training.corpus_stats", description=__doc__)
    parser.add_argument("folder", help="a folder of stereo audio files (searched recursively)")
    parser.add_argument("--compare", default=None, help="another folder of stereo files to plot against")
    parser.add_argument("-o", "--output-dir", required=True, help="where card.md, files.tsv and the plot go")
    parser.add_argument("--max-files", type=int, default=600, help="measure at most this many files per folder")
    args = parser.parse_args(argv)
    try:
        stats = measure_folder(args.folder, args.max_files)
        compare = measure_folder(args.compare, args.max_files) if args.compare else None
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not stats:
        print(f"error: no stereo file under {args.folder!r} could be read", file=sys.stderr)
        return 2
    os.makedirs(args.output_dir, exist_ok=True)
    text = card(args.folder, stats, read_manifest(args.folder), compare)
    with open(os.path.join(args.output_dir, "card.md"), "w") as out:
        out.write(text)
    _write_files(os.path.join(args.output_dir, "files.tsv"), stats)
    label = os.path.basename(os.path.normpath(args.folder))
    compare_label = os.path.basename(os.path.normpath(args.compare)) if args.compare else ""
    plot(stats, compare, os.path.join(args.output_dir, "corpus_stats.png"), label, compare_label)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
