"""The `train`, `finetune`, `tokenize`, `train-codec` and `release` commands.

Their parsers are filled here without importing torch; each handler imports what it runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import CommandError


def train_arguments(train: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo train`."""
    train.description = "Train a model from a YAML training config; resumable, and also under `accelerate launch`."
    train.add_argument("--config", required=True, help="training config YAML, e.g. configs/train/tiny-cpu.yaml")
    train.add_argument("--output-dir", required=True, help="folder for checkpoints, logs and the final model")
    train.add_argument("--max-steps", type=int, default=None, help="optimizer steps (overrides the config)")
    train.add_argument("--resume", default=None, help="`latest` or a checkpoint folder to continue from")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(handler=run_train)


def finetune_arguments(finetune: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo finetune`."""
    finetune.description = "Teach a trained model a new style tag, on all its weights or on LoRA adapters."
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


def tokenize_arguments(tokenize: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo tokenize`."""
    tokenize.description = "Encode a training config's sources with the model's codec into token shards."
    tokenize.add_argument("--config", required=True)
    tokenize.add_argument("--output-dir", required=True, help="an empty folder for tokens-*.safetensors")
    tokenize.add_argument("--max-examples", type=int, default=None)
    tokenize.add_argument("--examples-per-shard", type=int, default=1024)
    tokenize.add_argument("--batch-size", type=int, default=32)
    tokenize.add_argument("--device", default="cpu")
    tokenize.add_argument("--eval", action="store_true", help="tokenize the held-out sources instead")
    tokenize.set_defaults(handler=run_tokenize)


def train_codec_arguments(parser: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo train-codec` (and of `python -m mono2stereo.training.codec`)."""
    parser.description = (
        "Train the small codec of the EnCodec architecture from a YAML config. Resumable: run again with --resume "
        "to continue from OUTPUT_DIR/checkpoint.safetensors; --max-steps N stops after N total steps (the "
        "learning-rate schedule still follows the config's training.max_steps). The trained codec is written as a "
        "save_pretrained folder OUTPUT_DIR/final/ once the config's step count is reached."
    )
    parser.add_argument("--config", required=True, help="codec training YAML, e.g. configs/codec/small-24k.yaml")
    parser.add_argument("--output-dir", required=True, help="folder for checkpoint.safetensors, log.jsonl and final/")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many total steps (resumable)")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.safetensors")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    parser.set_defaults(handler=run_train_codec)


def release_arguments(parser: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo release` (and of `python -m mono2stereo.training.release`)."""
    parser.description = (
        "Save a trained run as a model folder: safetensors weights, config, the sampling settings of the release "
        "facts (generation_config.json) and a model card made of the facts and the eval figures."
    )
    parser.add_argument("run_dir", help="a folder written by `mono2stereo train`")
    parser.add_argument("output_dir", help="where the released model goes")
    parser.add_argument("--metrics", help="a results.json from `mono2stereo eval` to quote in the card")
    parser.add_argument("--system", help="the system name of this model in that results.json")
    parser.add_argument("--facts", required=True, help="the release-facts YAML for the card (configs/release/)")
    parser.add_argument("--checkpoint", type=int, help="release the run's checkpoint step-N instead of its end")
    parser.set_defaults(handler=run_release)


PARSERS = {  # see mono2stereo.cli
    "train": train_arguments,
    "finetune": finetune_arguments,
    "tokenize": tokenize_arguments,
    "train-codec": train_codec_arguments,
    "release": release_arguments,
}


def _load_config(path: str):
    from .config import TrainingConfig

    if not os.path.isfile(path):
        raise CommandError(f"config file {path!r} does not exist")
    try:
        return TrainingConfig.from_yaml(path)
    except (ValueError, TypeError) as error:
        raise CommandError(f"{path}: {error}") from error


def run_train(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo train`."""
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


def run_train_codec(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo train-codec`."""
    from tqdm.auto import tqdm

    from .codec import CodecTrainingConfig, train_codec

    try:
        config = CodecTrainingConfig.from_yaml(args.config)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from None
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
        raise CommandError(str(error)) from None
    finally:
        progress.close()
    if final is None:
        print(f"stopped before the end; continue with --resume (checkpoint in {args.output_dir})", file=sys.stderr)
    else:
        print(f"trained codec saved to {final}", file=sys.stderr)
    return 0


def run_release(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo release`."""
    from .release import load_facts, release_model, released_and_baselines

    try:
        facts = load_facts(args.facts)
        metrics = baselines = None
        if args.metrics:
            metrics, baselines = released_and_baselines(args.metrics, args.system or args.run_dir)
        folder = release_model(args.run_dir, args.output_dir, facts, metrics, args.checkpoint, baselines)
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from None
    print(f"released {args.run_dir} as {folder}")
    return 0


__all__ = ["PARSERS", "run_train", "run_finetune", "run_tokenize", "run_train_codec", "run_release"]
