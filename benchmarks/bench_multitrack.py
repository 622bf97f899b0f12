"""How long multitrack renders take and how much disk they fill: the MIDI library once, then N mixes into shards.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/bench_multitrack.py OUT --mixes 200 --seconds 6 \
        --midi-debs-dir DIR --workers 1

Prints a table: wall and CPU seconds (this process and its fluidsynth children) for building the MIDI library
(fetch, take apart, cut into excerpts; skipped when DIR already holds it) and for rendering, the shards' size, and
what one hour of mixes costs at those rates. OUT must not hold mixes yet (it would render nothing).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from mono2stereo.training.midi_library import excerpts
from mono2stereo.training.multitrack import default_soundfont
from mono2stereo.training.multitrack_shards import folder_bytes, render_shards


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and its finished children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output_dir")
    parser.add_argument("--mixes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--sampling-rate", type=int, default=32000)
    parser.add_argument("--midi-debs-dir", default=None)
    parser.add_argument("--midi-share", type=float, default=0.5)
    parser.add_argument("--soundfont", default=None)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if Path(args.output_dir, "multitrack.json").exists():
        print(f"error: {args.output_dir} already holds mixes; give an empty folder", file=sys.stderr)
        return 2
    soundfont = Path(args.soundfont) if args.soundfont else default_soundfont()
    rows = []
    if args.midi_debs_dir:
        wall, cpu = time.monotonic(), cpu_seconds()
        count = len(excerpts(args.midi_debs_dir, args.seconds))
        rows.append((f"MIDI library ({count} excerpts)", time.monotonic() - wall, cpu_seconds() - cpu, None))
    settings = {
        "mixes": args.mixes,
        "sampling_rate": args.sampling_rate,
        "seconds": args.seconds,
        "styles": None,
        "seed": 0,
        "soundfont": str(soundfont.resolve()),
        "midi_dir": str(Path(args.midi_debs_dir).resolve()) if args.midi_debs_dir else None,
        "midi_share": args.midi_share if args.midi_debs_dir else 0.0,
    }
    wall, cpu = time.monotonic(), cpu_seconds()
    render_shards(args.output_dir, settings, workers=args.workers)
    wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu  # workers > 1: their CPU is not counted
    size = folder_bytes(args.output_dir, "shard-*.tar")
    rows.append((f"{args.mixes} mixes of {args.seconds:g} s", wall, cpu, size))
    hour = 3600 / (args.mixes * args.seconds)
    rows.append(("one hour of mixes (extrapolated)", wall * hour, cpu * hour, size * hour))
    print(f"SoundFont {soundfont.name}, {args.sampling_rate} Hz, workers {args.workers}")
    print("| step | wall s | CPU s | on disk MB |")
    print("|---|---|---|---|")
    for name, step_wall, step_cpu, step_size in rows:
        megabytes = "" if step_size is None else f"{step_size / 1e6:.1f}"
        print(f"| {name} | {step_wall:.0f} | {step_cpu:.0f} | {megabytes} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
