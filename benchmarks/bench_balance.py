"""Left/right balance of the default model's upmixes over real songs and seeds: is there a sign bias?

    PYTHONPATH=. python benchmarks/bench_balance.py --refs ../shared/data/real-stereo-dev --seeds 8

Each reference is folded to mono and upmixed with seeds 0..N-1; the generated stereo (the model's own L/R) is
kept in `--cache` so every render mode is measured on the same generations. The balance of a stereo signal is
`10 log10(E[L^2] / E[R^2])` in dB (positive: louder on the left). The table gives, per render mode, the mean over
tracks and seeds, the spread of the per-seed means, and how many seeds lean left, then each seed's mean and
whether its generated stereo was mirrored (`config.random_mirror`). `--seconds 30` upmixes only the first 30 s of
each track. On a busy machine, run one process per track (`--track NAME`, in parallel) and then `--summary` for the
table.
"""

from __future__ import annotations

import argparse
import glob
import os
import time

import numpy as np
import torch

from mono2stereo.inference import rendering
from mono2stereo.inference.audio_io import read_audio
from mono2stereo.inference.default_model import shipped_model_path
from mono2stereo.inference.pipeline import Mono2StereoPipeline
from mono2stereo.inference.resampling import resample

MODES = ("codec", "keep-mid", "parametric")


def balance_db(stereo: np.ndarray) -> float:
    """`10 log10(E[L^2] / E[R^2])`: positive when the left channel carries more energy."""
    left, right = np.sum(stereo[:, 0].astype(np.float64) ** 2), np.sum(stereo[:, 1].astype(np.float64) ** 2)
    return float(10 * np.log10((left + 1e-20) / (right + 1e-20)))


def generated_stereo(pipeline, mono: np.ndarray, rate: int, seed: int, cache: str, name: str) -> np.ndarray:
    """The model's generated stereo for `mono` at the input's rate (as an upmix with `seed` makes it, mirror
    included), from `cache` when it is there."""
    path = os.path.join(cache, f"{name}-seed{seed}.npy")
    if os.path.exists(path):
        return np.load(path)
    config = pipeline.model.config
    window, overlap = pipeline.window_frames(None, None)
    codec_rate = config.sampling_rate
    with torch.no_grad():
        generated = pipeline.generate_stereo(resample(mono, rate, codec_rate), window, overlap, seed=seed)[0]
    generated = resample(generated, codec_rate, rate, num_samples=mono.shape[0])
    np.save(path, generated)
    return generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", default="../shared/data/real-stereo-dev")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--cache", default=os.path.expanduser("~/m2s-data/balance-cache"))
    parser.add_argument("--track", help="only this track (its row is saved under --cache for --summary)")
    parser.add_argument("--summary", action="store_true", help="the table from the rows saved by --track runs")
    parser.add_argument("--seconds", type=float, help="upmix only the first SECONDS of each track")
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    torch.set_num_threads(1)
    pipeline = Mono2StereoPipeline.from_pretrained(shipped_model_path(), device="cpu")
    tracks = sorted(glob.glob(os.path.join(args.refs, "*.flac")))
    rows = {mode: np.zeros((args.seeds, len(tracks))) for mode in ("reference", *MODES)}
    start = time.perf_counter()
    if args.summary:
        for t, path in enumerate(tracks):
            saved = np.load(os.path.join(args.cache, f"rows-{os.path.basename(path)}.npy"))
            for index, mode in enumerate(rows):
                rows[mode][:, t] = saved[index, : args.seeds]
        tracks = []
    for t, path in enumerate(tracks):
        if args.track and os.path.splitext(os.path.basename(path))[0] != args.track:
            continue
        source = read_audio(path, max_seconds=args.seconds)
        name = os.path.splitext(os.path.basename(path))[0]
        import soundfile as sf

        original, _ = sf.read(path, dtype="float32", frames=len(source.audio))
        rows["reference"][:, t] = balance_db(original)
        for seed in range(args.seeds):
            generated = generated_stereo(pipeline, source.audio, source.sampling_rate, seed, args.cache, name)
            for mode in MODES:
                stereo, _ = rendering.render(mode, source.audio, generated, source.sampling_rate)
                rows[mode][seed, t] = balance_db(stereo)
        print(f"{name}: " + ", ".join(f"{mode} {rows[mode][:, t].mean():+.2f}" for mode in rows), flush=True)
        np.save(
            os.path.join(args.cache, f"rows-{os.path.basename(path)}.npy"), np.stack([v[:, t] for v in rows.values()])
        )
    if args.track:
        return
    print(f"\n{len(tracks)} tracks x {args.seeds} seeds ({time.perf_counter() - start:.0f} s)\n")
    print("| render | mean balance (dB) | per-seed means: min .. max | seeds leaning left | tracks x seeds left |")
    print("|---|---|---|---|---|")
    for mode, values in rows.items():
        per_seed = values.mean(axis=1)
        print(
            f"| {mode} | {values.mean():+.2f} | {per_seed.min():+.2f} .. {per_seed.max():+.2f} | "
            f"{int((per_seed > 0).sum())} of {args.seeds} | {int((values > 0).sum())} of {values.size} |"
        )
    print("\n| seed | mirrored | " + " | ".join(f"{mode}: mean balance (dB)" for mode in rows) + " |")
    print("|---|---|" + "---|" * len(rows))
    for seed in range(args.seeds):
        mirrored = pipeline.draws_mirror(torch.Generator().manual_seed(seed))
        means = " | ".join(f"{values[seed].mean():+.2f}" for values in rows.values())
        print(f"| {seed} | {'yes' if mirrored else 'no'} | {means} |")


if __name__ == "__main__":
    main()
