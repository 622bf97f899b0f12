"""Training throughput of the tiny config on CPU: codec encoding inside the loop vs pre-made token shards.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_train.py --steps 40

Prints a markdown table (examples/s and stereo tokens/s over the whole run, data and codec included).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import torch

from mono2stereo.training.config import SourceConfig, TrainingConfig
from mono2stereo.training.loop import train
from mono2stereo.training.tokenizing import tokenize_sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/train/tiny-cpu.yaml")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        config = TrainingConfig.from_yaml(args.config)
        config.report_to, config.save_every, config.eval_every, config.data.eval_sources = "none", 10**9, 10**9, []
        examples = args.steps * config.batch_size
        started = time.perf_counter()
        writer = tokenize_sources(config, f"{folder}/tokens", max_examples=examples, batch_size=config.batch_size)
        tokenize_seconds = time.perf_counter() - started

        for mode in ("in-loop encoding", "token shards"):
            if mode == "token shards":
                config.data.sources = [SourceConfig(kind="tokens", path=f"{folder}/tokens")]
            result = train(
                config, f"{folder}/{mode.split()[0]}", max_steps=args.steps, show_progress=False, save_model=False
            )
            rows.append((mode, result.examples_per_second, result.tokens_per_second))

    print(
        f"tiny config ({args.config}), {args.steps} steps x batch {config.batch_size}, {args.threads} threads, "
        f"{platform.machine()} {platform.system()}, torch {torch.__version__}"
    )
    print(
        f"tokenizing {writer.num_examples} examples ahead took {tokenize_seconds:.1f} s "
        f"({writer.num_examples / tokenize_seconds:.1f} examples/s)\n"
    )
    print("| data path | examples/s | stereo tokens/s |")
    print("|---|---:|---:|")
    for mode, per_second, tokens in rows:
        print(f"| {mode} | {per_second:.1f} | {tokens:,.0f} |")


if __name__ == "__main__":
    main()
