"""Wall time of the `dsp:sources` upmixer on a 3-minute 44.1 kHz song (budget: under 60 s on a 2-core CPU).

    PYTHONPATH=. python benchmarks/bench_dsp_sources.py [--seconds 180] [--repeats 1]

The test song is synthetic: bass, chords, a lead melody and drums, so the run needs no data files.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from mono2stereo.dsp import upmix_dsp

SAMPLING_RATE = 44100
BEAT_SECONDS = 0.5


def harmonic_note(f0: float, seconds: float, amplitude: float, harmonics: int = 8) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    envelope = np.exp(-2.0 * t) * np.minimum(1.0, t / 0.01)
    partials = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, harmonics + 1))
    return (amplitude * envelope * partials).astype(np.float32)


def synthetic_song(seconds: float, seed: int = 0) -> np.ndarray:
    """A mono mix of bass, chords, lead and drums, peaking at 0.9."""
    rng = np.random.default_rng(seed)
    song = np.zeros(int(seconds * SAMPLING_RATE) + SAMPLING_RATE, dtype=np.float32)
    beat = int(BEAT_SECONDS * SAMPLING_RATE)
    scale = 220.0 * 2.0 ** (np.array([0, 2, 3, 5, 7, 8, 10]) / 12.0)
    for index, start in enumerate(range(0, len(song) - 2 * beat, beat)):
        root = scale[(index // 4) % len(scale)]
        song[start : start + 2 * beat] += harmonic_note(root / 4, 2 * BEAT_SECONDS, 0.15)
        for interval in (1.0, 1.26, 1.5):
            song[start : start + beat] += harmonic_note(root * interval, BEAT_SECONDS, 0.04)
        song[start : start + beat] += harmonic_note(rng.choice(scale) * 2, BEAT_SECONDS, 0.06)
        hit = rng.standard_normal(beat // 4).astype(np.float32) * np.exp(-np.arange(beat // 4) / 400.0)
        song[start : start + beat // 4] += (0.3 if index % 2 == 0 else 0.15) * hit
    song = song[: int(seconds * SAMPLING_RATE)]
    return (0.9 * song / np.max(np.abs(song))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    song = synthetic_song(args.seconds)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        stereo = upmix_dsp("dsp:sources", song, SAMPLING_RATE)
        times.append(time.perf_counter() - start)
    assert stereo.shape == (len(song), 2)
    print(f"| upmixer | audio (s) | sampling rate | wall time (s), best of {args.repeats} | x real time | machine |")
    print("|---|---|---|---|---|---|")
    print(
        f"| dsp:sources | {args.seconds:.0f} | {SAMPLING_RATE} | {min(times):.1f} | {args.seconds / min(times):.1f} |"
        f" {platform.machine()} |"
    )


if __name__ == "__main__":
    main()
