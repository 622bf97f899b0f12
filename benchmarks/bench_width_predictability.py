"""How much does the mono tell of a song's width? A linear model on pooled band energies, against a constant.

    OMP_NUM_THREADS=1 python benchmarks/bench_width_predictability.py --train data/corpus-32k/train \
        --test data/corpus-32k/heldout --model mono2stereo/default_model --count 1500

For `--count` segments drawn from `--train` (seed 0) and every segment of `--test`: the width of the stereo (side to
mid, dB, clipped to the model's width range) and features of its mono fold taken with a spatial model's own mono
encoding (`encode_mono`: log band energies per frame), pooled over the segment (per band: mean, standard deviation,
mean change from frame to frame). A ridge regression fitted on the training segments, at each `--penalties`, is
scored on the test segments by its mean absolute error against the training median's; a width the mono does not
tell is predicted no better than the median.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from mono2stereo.audio import width_db
from mono2stereo.inference.pipeline import load_pipeline


def pooled_features(model, mono: np.ndarray) -> np.ndarray:
    """A spatial model's mono encoding of `mono (samples,)` at its rate, pooled over frames `(3 * bands,)`: per
    band the mean, the standard deviation and the mean change from frame to frame."""
    with torch.no_grad():
        features = model.encode_mono(torch.from_numpy(mono)[None])[0].numpy()
    change = np.abs(np.diff(features, axis=1)).mean(axis=1)
    return np.concatenate([features.mean(axis=1), features.std(axis=1), change])


def ridge_weights(a: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Ridge regression weights of standardised features `a` on `y - y.mean()`."""
    return np.linalg.solve(a.T @ a + penalty * np.eye(a.shape[1]), a.T @ (y - y.mean()))


def segment_features(model, path: Path) -> tuple[np.ndarray, float]:
    """Pooled mono features `(3 * bands,)` and the stereo width (dB) of one segment file."""
    stereo, _ = sf.read(path, dtype="float32", always_2d=True)  # segments are at the model's rate
    return pooled_features(model, stereo.mean(axis=1)), float(width_db(stereo))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="a folder of stereo segments at the model's rate")
    parser.add_argument("--test", required=True, help="another such folder (held out)")
    parser.add_argument("--model", required=True, help="a spatial model, for its mono encoding")
    parser.add_argument("--count", type=int, default=1500, help="training segments drawn (default 1500)")
    parser.add_argument("--penalties", type=float, nargs="+", default=[1.0, 10.0, 100.0, 1000.0])
    args = parser.parse_args()
    model = load_pipeline(args.model).model
    if not model.config.is_spatial:
        parser.error(f"{args.model} is not a spatial model")
    low, high = model.config.width_db_range
    train_files = sorted(Path(args.train).glob("*.flac"))
    train_files = random.Random(0).sample(train_files, min(args.count, len(train_files)))
    test_files = sorted(Path(args.test).glob("*.flac"))
    if not train_files or not test_files:
        parser.error("both folders need .flac segments")

    def table(files, name):
        pairs = [segment_features(model, path) for path in tqdm(files, desc=name, unit="segment")]
        return np.stack([p[0] for p in pairs]), np.clip([p[1] for p in pairs], low, high)

    train_x, train_y = table(train_files, "train")
    test_x, test_y = table(test_files, "test")
    centre, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    a, b = (train_x - centre) / scale, (test_x - centre) / scale
    median = float(np.median(train_y))
    print(f"{len(train_y)} training and {len(test_y)} test segments; test widths {test_y.mean():.1f} dB on average")
    print("| predictor | test MAE (dB) | correlation | training MAE (dB) |")
    print("|---|---|---|---|")
    print(f"| the training median ({median:.1f} dB) | {np.abs(test_y - median).mean():.2f} | - | - |")
    for penalty in args.penalties:
        weights = ridge_weights(a, train_y, penalty)
        predicted, fitted = b @ weights + train_y.mean(), a @ weights + train_y.mean()
        print(
            f"| ridge, penalty {penalty:g} | {np.abs(test_y - predicted).mean():.2f} | "
            f"{np.corrcoef(predicted, test_y)[0, 1]:.2f} | {np.abs(train_y - fitted).mean():.2f} |"
        )


if __name__ == "__main__":
    main()
