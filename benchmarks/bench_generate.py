"""Generation speed and peak memory of the model on CPU: frames/s, real-time factor, peak RSS.

    python benchmarks/bench_generate.py                      # all cases, prints a markdown table
    python benchmarks/bench_generate.py --configs tiny       # only the tiny config

Each case runs in a fresh subprocess so its peak resident memory is its own. The real-time factor is seconds
of audio generated per second of wall time (above 1 is faster than real time). Weights are random: speed does
not depend on them. Generation without the KV cache recomputes the whole prefix at every step (quadratic), so
it runs on a 1 s window, shown in the table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"tiny": REPO / "configs/model/tiny.json", "base": REPO / "configs/model/base-encodec32k.json"}
WINDOW_SECONDS = 10.0
NO_CACHE_SECONDS = {"tiny": 1.0, "base": 1.0}


def run_case(config_name: str, batch: int, seconds: float, use_cache: bool) -> dict:
    """Generate `batch` windows of `seconds` once (after a short warm-up) and measure it."""
    from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel

    config = Mono2StereoConfig.from_json_file(CONFIGS[config_name])
    torch.manual_seed(0)
    model = Mono2StereoModel(config).eval()
    frames = round(seconds * config.frame_rate)
    mono = torch.randint(0, config.codebook_size, (batch, config.num_codebooks, frames))
    model.generate(mono[:1, :, :2], seed=0, use_cache=use_cache)  # warm-up
    start = time.perf_counter()
    model.generate(mono, seed=0, use_cache=use_cache)
    elapsed = time.perf_counter() - start
    return {
        "config": config_name,
        "parameters_m": model.num_transformer_parameters() / 1e6,
        "batch": batch,
        "seconds": seconds,
        "kv_cache": use_cache,
        "wall_s": elapsed,
        "frames_per_s": batch * frames / elapsed,
        "realtime_factor": batch * seconds / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["tiny", "base"], choices=sorted(CONFIGS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case and print JSON
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(**json.loads(args.case))))
        return

    rows = []
    for name in args.configs:
        for use_cache in (True, False):
            seconds = WINDOW_SECONDS if use_cache else NO_CACHE_SECONDS[name]
            for batch in args.batches:
                case = json.dumps({"config_name": name, "batch": batch, "seconds": seconds, "use_cache": use_cache})
                result = subprocess.run(
                    [sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True
                )
                rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
                print(f"done: {rows[-1]}", file=sys.stderr)

    print(
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch "
        f"{torch.__version__}\n"
    )
    print(
        "| config | params (M) | windows | audio/window (s) | KV cache | wall (s) | frames/s | x real time "
        "| peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['config']} | {r['parameters_m']:.3g} | {r['batch']} | {r['seconds']:g} | "
            f"{'yes' if r['kv_cache'] else 'no'} | {r['wall_s']:.2f} | {r['frames_per_s']:.0f} | "
            f"{r['realtime_factor']:.2f} | {r['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
