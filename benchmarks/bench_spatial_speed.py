"""Speed and peak memory of a spatial-token model against `dsp:allpass`, timed in the same process.

    OMP_NUM_THREADS=1 python benchmarks/bench_spatial_speed.py --model runs/spatial-32k --seconds 180 --batch-size 8 32
    OMP_NUM_THREADS=1 python benchmarks/bench_spatial_speed.py --model runs/spatial-32k --seconds 600 --memory

The input is 44.1 kHz noise shaped like music's spectrum (speed does not depend on the content, nor on the weights:
a model of the same config with random weights times the same). Each upmixer is timed `--repeats` times and its
fastest run is kept, as wall time and as the process's CPU time (which other jobs on a shared machine disturb
less); the ratio to `dsp:allpass` is taken on CPU time. With `--memory`, one upmix at the first batch size runs and
the process's peak RSS is printed, so run it once per length.
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
    parser.add_argument("--decoding", default=None, help="sample, mean or mean-level (default: the model's own)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per upmixer; the fastest counts (default 2)")
    args = parser.parse_args()
    pipeline = Mono2StereoPipeline.from_pretrained(args.model, device="cpu")
    audio = song(args.seconds)
    print(f"machine: {platform.machine()}, torch threads: {torch.get_num_threads()}, audio: {args.seconds:g} s")
    if args.memory:
        pipeline(audio, RATE, seed=0, batch_size=args.batch_size[0])
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {args.seconds:g} s | batch {args.batch_size[0]} | peak RSS {peak_mib:.0f} MiB |")
        return

    def fastest(run) -> tuple[float, float]:
        """The least wall and CPU seconds of `--repeats` calls of `run`."""
        times = []
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
        return min(t[0] for t in times), min(t[1] for t in times)

    allpass_wall, allpass_cpu = fastest(lambda: upmix_dsp("dsp:allpass", audio, RATE))
    print("| upmixer | batch | wall s | CPU s | x real time (CPU) | / dsp:allpass CPU time |")
    print("|---|---|---|---|---|---|")
    print(f"| dsp:allpass | - | {allpass_wall:.1f} | {allpass_cpu:.2f} | {args.seconds / allpass_cpu:.0f} | 1.0 |")
    for batch in args.batch_size:
        wall, cpu = fastest(lambda b=batch: pipeline(audio, RATE, seed=0, batch_size=b, decoding=args.decoding))
        print(
            f"| {args.model} | {batch} | {wall:.1f} | {cpu:.2f} | {args.seconds / cpu:.0f} | {cpu / allpass_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
