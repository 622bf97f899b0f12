"""Stem mixing speed on CPU: `mix` of four 3-minute stems, against a `dsp:allpass` upmix of the same length.

    PYTHONPATH=. python benchmarks/bench_mix.py --seconds 180

The stems are one synthetic song (`training.synthetic` arrangement at 44.1 kHz): drums and piano (polyphonic, so
upmixed) and bass and vocals (single lines, placed as points). `mix` runs with each upmixer (`none` places every
stem as a point); `upmix dsp:allpass` is the sum of the stems upmixed once, timed in the same run, and the ratio
column is each row's time over it. Audio I/O is not timed.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

RATE = 44100
UPMIXERS = ("none", "dsp:allpass", "default")


def band_stems(seconds: float) -> dict:
    """Four stems of a synthetic song at `RATE`."""
    from mono2stereo.training.synthetic import SyntheticMixes, _Renderer

    generator = torch.Generator().manual_seed(0)
    render = _Renderer(int(seconds * RATE), RATE, torch.device("cpu"), generator)
    tracks = {
        name: track.numpy() for name, track in SyntheticMixes(1, RATE, seconds).arrange(render, generator).items()
    }
    return {
        "drums": tracks["kick"] + tracks["snare"] + tracks["hats"],
        "bass": tracks["bass"],
        "vocals": tracks["lead"],
        "piano": tracks["chords"],
    }


def best_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of each stem")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case; the best is reported")
    parser.add_argument("--upmixers", nargs="+", default=list(UPMIXERS), help=f"of {', '.join(UPMIXERS)}")
    args = parser.parse_args()

    from mono2stereo.inference.pipeline import load_pipeline
    from mono2stereo.mixing import mix

    stems = band_stems(args.seconds)
    total = sum(stems.values())
    allpass = load_pipeline("dsp:allpass")
    reference = best_time(lambda: allpass(total, RATE), args.repeats)
    rows = [("upmix dsp:allpass (the stems' sum)", reference, None)]
    for name in args.upmixers:
        upmixer = None if name == "none" else load_pipeline(None if name == "default" else name)  # loaded untimed
        output = None

        def run(name=name, upmixer=upmixer):
            nonlocal output
            output = mix(stems, RATE, style="modern", seed=0, model=upmixer, upmix=name != "none")

        seconds = best_time(run, args.repeats)
        upmixed = ", ".join(stem.name for stem in output.placements[0].stems if stem.upmixed) or "none"
        rows.append((f"mix of 4 stems, upmixer {name} (upmixed: {upmixed})", seconds, seconds / reference))

    machine = f"{platform.machine()}, {torch.get_num_threads()} threads"
    print(f"{len(stems)} stems of {args.seconds:g} s at {RATE} Hz; {machine}")
    print(f"| case | wall time (s), best of {args.repeats} | x real time | time / allpass upmix |")
    print("|---|---|---|---|")
    for case, seconds, ratio in rows:
        print(
            f"| {case} | {seconds:.2f} | {args.seconds / seconds:.1f} | {'1' if ratio is None else f'{ratio:.2f}'} |"
        )


if __name__ == "__main__":
    main()
