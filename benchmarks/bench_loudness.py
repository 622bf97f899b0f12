"""Level of loud masters after upmixing: is the output turned down, and is its mid still the input?

    PYTHONPATH=. python benchmarks/bench_loudness.py --peak 0.93     # after bench_balance.py filled the cache

Each dev track is folded to mono and normalised to `--peak` (a modern master), and its default-model generations
from `bench_balance.py`'s cache (seeds 0 and 1, scaled alike) are rendered in each mode. Per mode: the mean level
of the output's fold-down against the input in dB (0: not turned down), the largest difference between the
fold-down and the input, the output's peak, and the share of samples whose side was turned down. Run it with
`PYTHONPATH` at an older copy of the package for the figures before a change (the `render` call is the same).
"""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np

from mono2stereo.audio import fold as fold_down
from mono2stereo.inference import rendering
from mono2stereo.inference.audio_io import read_audio

MODES = ("keep-mid", "codec", "parametric")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", default="../shared/data/real-stereo-dev")
    parser.add_argument("--cache", default=os.path.expanduser("~/m2s-data/balance-cache"))
    parser.add_argument("--peak", type=float, default=0.93)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    rows = {mode: [] for mode in MODES}
    for path in sorted(glob.glob(os.path.join(args.refs, "*.flac"))):
        name = os.path.splitext(os.path.basename(path))[0]
        source = read_audio(path)
        scale = args.peak / np.abs(source.audio).max()
        mono = source.audio * np.float32(scale)
        for seed in range(args.seeds):
            generated = np.load(os.path.join(args.cache, f"{name}-seed{seed}.npy")) * np.float32(scale)
            for mode in MODES:
                stereo, gain = rendering.render(mode, mono, generated, source.sampling_rate)
                fold = fold_down(stereo)
                level = 10 * np.log10(np.mean(fold.astype(np.float64) ** 2) / np.mean(mono.astype(np.float64) ** 2))
                rows[mode].append((level, np.abs(fold - mono).max(), np.abs(stereo).max(), gain))
    print("| render | fold-down level vs input (dB), mean / lowest | max abs(fold-down - input) | output peak | "
          "global gain, lowest |")  # fmt: skip
    print("|---|---|---|---|---|")
    for mode, values in rows.items():
        values = np.array(values)
        print(
            f"| {mode} | {values[:, 0].mean():+.2f} / {values[:, 0].min():+.2f} | {values[:, 1].max():.4f} | "
            f"{values[:, 2].max():.4f} | {values[:, 3].min():.3f} |"
        )


if __name__ == "__main__":
    main()
