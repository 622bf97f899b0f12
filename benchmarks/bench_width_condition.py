"""Does a spatial model obey the width it is asked for? Output widths for several `target_width_db`.

    OMP_NUM_THREADS=1 python benchmarks/bench_width_condition.py --model models/mt-800-mean --refs HELDOUT40

Every `--every`-th reference (sorted by name), its first `--seconds` folded to mono, is upmixed with the model's
decoding and each asked width (and none); the table gives the reference's width and each output's (side-to-mid
energy, dB). A model that uses its width condition moves its output with the asked width.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile as sf

from mono2stereo.audio import width_db
from mono2stereo.evaluation.metrics import fold_down
from mono2stereo.inference.pipeline import Mono2StereoPipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a spatial model folder")
    parser.add_argument("--refs", required=True, help="a folder of stereo songs")
    parser.add_argument("--targets", type=float, nargs="+", default=[-20.0, -9.0, -3.0])
    parser.add_argument("--every", type=int, default=8, help="take every N-th song (default 8)")
    parser.add_argument("--count", type=int, default=5, help="songs at most (default 5)")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    pipeline = Mono2StereoPipeline.from_pretrained(args.model, device="cpu")
    songs = sorted(path for path in Path(args.refs).iterdir() if path.is_file())[:: args.every][: args.count]
    print("| song | reference | free | " + " | ".join(f"asked {t:g}" for t in args.targets) + " |")
    print("|---|---|---|" + "---|" * len(args.targets))
    for song in songs:
        audio, rate = sf.read(song, dtype="float32", always_2d=True)
        audio = audio[: int(args.seconds * rate)]
        mono = fold_down(audio)
        widths = [width_db(pipeline(mono, rate, seed=0, target_width_db=t).audio) for t in [None, *args.targets]]
        print(f"| {song.name} | {width_db(audio):.1f} | " + " | ".join(f"{w:.1f}" for w in widths) + " |")


if __name__ == "__main__":
    main()
