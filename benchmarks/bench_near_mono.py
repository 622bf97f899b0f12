"""Does the mono tell a near-mono song from a stereo one? Songs the corpus kept and removed, packages held out.

    OMP_NUM_THREADS=1 python benchmarks/bench_near_mono.py --corpus data/corpus-32k \
        --unpacked ~/.cache/mono2stereo/debian-music-debs/unpacked --model mono2stereo/default_model

The corpus drops songs narrower than `song_checks.NEAR_MONO_WIDTH_DB` (listed in its REMOVED.tsv), so no model
trained on it has heard one. Would keeping them teach a model to leave such a record near mono? Only if their
mono folds differ from the others'. For every song of MANIFEST.tsv and every near-mono one of REMOVED.tsv (read
from the unpacked Debian packages): `--excerpts` excerpts of `--seconds` s, folded to mono, resampled to the
model's rate and pooled over frames in its own mono encoding (per band: mean, standard deviation, mean change from
frame to frame), averaged over excerpts; the width is the song's own from the manifest or the removal note.

Predictors are fitted with whole packages held out (`--folds` groups of packages), since a package's songs share
a sound and a mixing habit and a record to upmix comes from none of them: a ridge regression of the width (clipped
at `--floor` dB) and the k nearest songs' median width. Reported: MAE and correlation against the training
folds' median, and how well the predicted width ranks the near-mono songs below the others (ROC AUC, 0.5 is
chance).
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from bench_width_predictability import pooled_features, ridge_weights  # run from benchmarks/: its neighbour
from tqdm import tqdm

from mono2stereo.inference.pipeline import load_pipeline


def song_list(corpus: Path) -> list[tuple[str, str, float, bool]]:
    """(package, file, width dB, near-mono) for every kept song and every song removed as near-mono."""
    songs = []
    with open(corpus / "MANIFEST.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            songs.append((row["package"], row["file"], float(row["width_db"]), False))
    with open(corpus / "REMOVED.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["rule"] == "near-mono":
                width = re.search(r"width (-?[\d.]+) dB", row["detail"])
                if width:
                    songs.append((row["package"], row["file"], float(width.group(1)), True))
    return songs


def song_features(model, path: Path, excerpts: int, seconds: float) -> np.ndarray | None:
    """Pooled mono features `(3 * bands,)`, averaged over excerpts spread through the song; None if unreadable."""
    try:
        info = sf.info(path)
    except RuntimeError:
        return None
    length = int(seconds * info.samplerate)
    starts = np.linspace(0, max(0, info.frames - length), excerpts + 2)[1:-1].astype(int)
    pooled = []
    for start in starts:
        audio, rate = sf.read(path, start=int(start), frames=length, dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
        if rate != model.config.sampling_rate:
            mono = soxr.resample(mono, rate, model.config.sampling_rate).astype(np.float32)
        pooled.append(pooled_features(model, mono))
    return np.mean(pooled, axis=0)


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    for value in np.unique(scores):  # average ranks over ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    count, other = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - count * (count + 1) / 2) / (count * other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path, help="a corpus of `mono2stereo corpus`")
    parser.add_argument("--unpacked", required=True, type=Path, help="the unpacked Debian packages it was cut from")
    parser.add_argument("--model", required=True, help="a spatial model, for its mono encoding")
    parser.add_argument("--excerpts", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--folds", type=int, default=8)
    parser.add_argument("--neighbours", type=int, default=15)
    parser.add_argument("--penalty", type=float, default=100.0)
    parser.add_argument("--floor", type=float, default=-30.0)
    args = parser.parse_args()
    model = load_pipeline(args.model).model
    if not model.config.is_spatial:
        parser.error(f"{args.model} is not a spatial model")

    rows, packages, widths, near = [], [], [], []
    for package, file, width, is_near in tqdm(song_list(args.corpus), desc="songs", unit="song"):
        features = song_features(model, args.unpacked / package / file, args.excerpts, args.seconds)
        if features is not None:
            rows.append(features)
            packages.append(package)
            widths.append(max(width, args.floor))
            near.append(is_near)
    x, y, near = np.stack(rows), np.asarray(widths), np.asarray(near)
    names = sorted(set(packages))
    fold_of = {name: index % args.folds for index, name in enumerate(np.random.default_rng(0).permutation(names))}
    folds = np.asarray([fold_of[p] for p in packages])

    predicted = {
        "training folds' median": np.zeros_like(y),
        "ridge": np.zeros_like(y),
        "nearest songs": np.zeros_like(y),
    }
    for fold in range(args.folds):
        test, train = folds == fold, folds != fold
        centre, scale = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
        a, b = (x[train] - centre) / scale, (x[test] - centre) / scale
        predicted["ridge"][test] = b @ ridge_weights(a, y[train], args.penalty) + y[train].mean()
        distances = ((b[:, None, :] - a[None, :, :]) ** 2).sum(axis=-1)
        nearest = np.argsort(distances, axis=1)[:, : args.neighbours]
        predicted["nearest songs"][test] = np.median(y[train][nearest], axis=1)
        predicted["training folds' median"][test] = np.median(y[train])

    print(
        f"{len(y)} songs from {len(names)} packages, {near.sum()} of them near-mono (the kept ones reach "
        f"{y[~near].min():.1f} dB); widths clipped at {args.floor:g} dB; {args.folds} folds of whole packages"
    )
    print("| predictor | MAE (dB), all | MAE (dB), near-mono songs | correlation | near-mono AUC |")
    print("|---|---|---|---|---|")
    for name, guess in predicted.items():
        baseline = name == "training folds' median"  # constant within a fold: its ranks mean nothing
        correlation = "-" if baseline else f"{np.corrcoef(guess, y)[0, 1]:.2f}"
        auc = "-" if baseline else f"{roc_auc(-guess, near):.2f}"
        print(
            f"| {name} | {np.abs(guess - y).mean():.2f} | {np.abs(guess - y)[near].mean():.2f} | "
            f"{correlation} | {auc} |"
        )


if __name__ == "__main__":
    main()
