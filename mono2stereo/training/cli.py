"""The `train`, `finetune` and `tokenize` commands."""

from __future__ import annotations

import argparse
import os


def register(subparsers) -> None:
    """Add the training commands to the `mono2stereo` parser."""
    train = subparsers.add_parser("train", help="train a model from a YAML config (also under `accelerate launch`)")
    train.add_argument("--config", required=True, help="training config YAML, e.g. configs/train/tiny-cpu.yaml")
    train.add_argument("--output-dir", required=True, help="folder for checkpoints, logs and the final model")
    train.add_argument("--max-steps", type=int, default=None, help="optimizer steps (overrides the config)")
    train.add_argument("--resume", default=None, help="`latest` or a checkpoint folder to continue from")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(handler=run_train)

    finetune = subparsers.add_parser("finetune", help="teach a trained model a new mixing style")
    finetune.add_argument("--from", dest="model", required=True, help="trained model folder or Hub id")
    finetune.add_argument(
        "--data", required=True, help="folder of stereo audio or token shards, a dataset id, or synthetic:STYLE"
    )
    finetune.add_argument("--style", required=True, help="the new style tag")
    finetune.add_argument("--output-dir", required=True)
    finetune.add_argument("--max-steps", type=int, default=200)
    finetune.add_argument("--lora", action="store_true", help="train LoRA adapters (merged before saving)")
    finetune.add_argument("--init-style", default=None, help="existing tag the new one starts from (default: first)")
    finetune.add_argument("--learning-rate", type=float, default=None)
    finetune.add_argument("--batch-size", type=int, default=8)
    finetune.add_argument("--seed", type=int, default=0)
    finetune.set_defaults(handler=run_finetune)

    tokenize = subparsers.add_parser("tokenize", help="encode a config's sources into token shards ahead of time")
    tokenize.add_argument("--config", required=True)
    tokenize.add_argument("--output-dir", required=True, help="an empty folder for tokens-*.safetensors")
    tokenize.add_argument("--max-examples", type=int, default=None)
    tokenize.add_argument("--examples-per-shard", type=int, default=1024)
    tokenize.add_argument("--batch-size", type=int, default=32)
    tokenize.add_argument("--device", default="cpu")
    tokenize.add_argument("--eval", action="store_true", help="tokenize the held-out sources instead")
    tokenize.set_defaults(handler=run_tokenize)


def _load_config(path: str):
    from ..cli import CommandError
    from .config import TrainingConfig

    if not os.path.isfile(path):
        raise CommandError(f"config file {path!r} does not exist")
    try:
        return TrainingConfig.from_yaml(path)
    except (ValueError, TypeError) as error:
        raise CommandError(f"{path}: {error}") from error


def run_train(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo train`."""
    from ..cli import CommandError
    from .loop import train

    config = _load_config(args.config)
    os.makedirs(args.output_dir, exist_ok=True)
    try:
        result = train(config, args.output_dir, args.max_steps, args.resume, show_progress=not args.no_progress)
    except ValueError as error:
        raise CommandError(str(error)) from error
    if result.accelerator.is_main_process:
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(result.skipped.items())) or "none"
        print(f"trained {result.step} steps; skipped examples: {skipped}; model saved in {args.output_dir}")
    return 0


def run_finetune(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo finetune`."""
    from ..cli import CommandError
    from .finetune import finetune

    os.makedirs(args.output_dir, exist_ok=True)
    try:
        finetune(
            args.model,
            args.data,
            args.style,
            args.output_dir,
            max_steps=args.max_steps,
            lora=args.lora,
            init_style=args.init_style,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            seed=args.seed,
            show_progress=True,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error
    print(f"model with style {args.style!r} saved in {args.output_dir}")
    return 0


def run_tokenize(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo tokenize`."""
    from ..cli import CommandError
    from .tokenizing import tokenize_sources

    config = _load_config(args.config)
    try:
        writer = tokenize_sources(
            config,
            args.output_dir,
            args.max_examples,
            args.examples_per_shard,
            args.batch_size,
            args.device,
            show_progress=True,
            eval_split=args.eval,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(writer.skipped.items())) or "none"
    print(
        f"wrote {writer.num_examples} examples in {writer.num_shards} shards to {args.output_dir}; skipped: {skipped}"
    )
    return 0


__all__ = ["register", "run_train", "run_finetune", "run_tokenize"]
