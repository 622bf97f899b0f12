"""Train the codec: `python -m mono2stereo.training.codec --config configs/codec/small-24k.yaml --output-dir DIR`.

Resumable: run again with `--resume` to continue from `DIR/checkpoint.safetensors`; `--max-steps N` stops after N
total steps (the learning-rate schedule still follows the config's `training.max_steps`). The trained codec is
written as a `save_pretrained` folder `DIR/final/` once the config's step count is reached.
"""

from __future__ import annotations

import argparse
import sys

from tqdm.auto import tqdm

from .config import CodecTrainingConfig
from .train import train_codec


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and train; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m mono2stereo.training.codec", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="codec training YAML, e.g. configs/codec/small-24k.yaml")
    parser.add_argument("--output-dir", required=True, help="folder for checkpoint.safetensors, log.jsonl and final/")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many total steps (resumable)")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.safetensors")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    args = parser.parse_args(argv)
    try:
        config = CodecTrainingConfig.from_yaml(args.config)
    except (FileNotFoundError, ValueError) as error:
        print(f"codec training: error: {error}", file=sys.stderr)
        return 1
    total = config.training.max_steps if args.max_steps is None else min(args.max_steps, config.training.max_steps)
    progress = tqdm(total=total, disable=args.no_progress, desc="codec", unit="step")

    def on_step(step: int, metrics: dict[str, float]) -> None:
        progress.n = step
        if step % config.training.log_every == 0:
            progress.set_postfix(loss=f"{metrics['loss']:.3f}", mel=f"{metrics['mel']:.3f}", refresh=False)
        progress.refresh()

    try:
        final = train_codec(config, args.output_dir, max_steps=args.max_steps, resume=args.resume, on_step=on_step)
    except (FileNotFoundError, ValueError) as error:  # ValueError: a damaged checkpoint, named in the message
        print(f"codec training: error: {error}", file=sys.stderr)
        return 1
    finally:
        progress.close()
    if final is None:
        print(f"stopped before the end; continue with --resume (checkpoint in {args.output_dir})", file=sys.stderr)
    else:
        print(f"trained codec saved to {final}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
