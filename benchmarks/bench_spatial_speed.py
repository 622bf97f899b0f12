"""Speed and peak memory of a spatial-token model against `dsp:allpass`, timed in the same process.

    OMP_NUM_THREADS=1 python benchmarks/bench_spatial_speed.py --model runs/spatial-32k --seconds 180 --batch-size 8 32
    OMP_NUM_THREADS=1 python benchmarks/bench_spatial_speed.py --model runs/spatial-32k --seconds 600 --memory

The input is 44.1 kHz noise shaped like music's spectrum (speed does not depend on the content). With `--memory`,
one upmix at the first batch size runs and the process's peak RSS is printed, so run it once per length.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
import torch

from mono2stereo.dsp import upmix_dsp
from mono2stereo.inference.pipeline import Mono2StereoPipeline

RATE = 44100


def song(seconds: float) -> np.ndarray:
    """Pink-ish noise at -20 dBFS RMS, `seconds` long."""
    white = np.random.default_rng(0).standard_normal(int(seconds * RATE))
    spectrum = np.fft.rfft(white) / np.sqrt(np.maximum(np.fft.rfftfreq(len(white), 1 / RATE), 20.0))
    pink = np.fft.irfft(spectrum, len(white))
    return (0.1 * pink / np.sqrt(np.mean(pink**2))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a spatial model folder")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8])
    parser.add_argument("--memory", action="store_true", help="one upmix, then the peak RSS")
    args = parser.parse_args()
    pipeline = Mono2StereoPipeline.from_pretrained(args.model, device="cpu")
    audio = song(args.seconds)
    print(f"machine: {platform.machine()}, torch threads: {torch.get_num_threads()}, audio: {args.seconds:g} s")
    if args.memory:
        pipeline(audio, RATE, seed=0, batch_size=args.batch_size[0])
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {args.seconds:g} s | batch {args.batch_size[0]} | peak RSS {peak_mib:.0f} MiB |")
        return
    start = time.perf_counter()
    upmix_dsp("dsp:allpass", audio, RATE)
    allpass = time.perf_counter() - start
    print("| upmixer | batch | wall s | x real time | / dsp:allpass time |")
    print("|---|---|---|---|---|")
    print(f"| dsp:allpass | - | {allpass:.1f} | {args.seconds / allpass:.1f} | 1.0 |")
    for batch in args.batch_size:
        start = time.perf_counter()
        pipeline(audio, RATE, seed=0, batch_size=batch)
        took = time.perf_counter() - start
        print(f"| {args.model} | {batch} | {took:.1f} | {args.seconds / took:.1f} | {took / allpass:.1f} |")


if __name__ == "__main__":
    main()
