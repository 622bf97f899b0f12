"""The `mono2stereo upmix` and `mono2stereo info` commands: thin wrappers over the pipeline and file functions."""

from __future__ import annotations

import argparse
import os
import sys

from tqdm.auto import tqdm

from ..audio import AUDIO_FORMATS
from ..dsp import DSP_PREFIX
from ..errors import CommandError
from .audio_io import fold_warning
from .catalogue import is_quiet_process, process_device, run_jobs
from .files import expand_inputs, output_is_folder, plan_jobs, upmix_file
from .options import CHANNELS, check_upmix_options
from .render_modes import DEFAULT_RENDER, RENDER_ALIASES, RENDER_MODES

FORMATS = sorted({extension.lstrip(".") for extension in AUDIO_FORMATS})


def upmix_arguments(upmix: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo upmix`."""
    upmix.description = (
        "Upmix mono audio to stereo. Stereo input is folded to mono (L+R)/2 first. Outputs keep the input's sample "
        "rate and length."
    )
    upmix.add_argument(
        "inputs",
        nargs="+",
        metavar="IN",
        help='audio files, folders (their audio files) or quoted glob patterns such as "album/*.flac"',
    )
    upmix.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output folder, or a file path for a single input"
    )
    upmix.add_argument("--model", help="folder saved with save_pretrained, a Hub id, or dsp:NAME (default: built in)")
    upmix.add_argument("--style", help="a style tag of the model (see `mono2stereo info MODEL`); default: free")
    upmix.add_argument("--width", type=float, default=1.0, help="side gain: 0 dual mono, 1 as generated (default)")
    upmix.add_argument(
        "--target-width-db",
        type=float,
        metavar="DB",
        help="ask the model for this side-to-mid ratio, e.g. -8; a spatial model's song gets it exactly, before "
        "--width (default: the model's generation_config.json, else the model's own choice)",
    )
    upmix.add_argument(
        "--render",
        choices=[*RENDER_MODES, *RENDER_ALIASES],
        default=DEFAULT_RENDER,
        help="how the stereo is rendered (mid-side: the old name of keep-mid)",
    )
    upmix.add_argument("--seed", type=int, help="random seed for reproducible output")
    upmix.add_argument("--variants", type=int, default=1, help="independent versions, written as NAME-v1, NAME-v2...")
    upmix.add_argument("--device", help="cpu, cuda, cuda:1, mps... (default: a GPU if there is one)")
    upmix.add_argument(
        "--threads",
        type=int,
        help=f"CPU threads for the model (default: {default_threads()} here, half the cores this process may use)",
    )
    upmix.add_argument("--window", type=float, metavar="SECONDS", help="generation window (default: the model's)")
    upmix.add_argument("--overlap", type=float, metavar="SECONDS", help="window overlap (default: 1 s, at most 1/4)")
    upmix.add_argument(
        "--batch-size", type=int, help="windows generated at once (default: 32 for a spatial model, else 8)"
    )
    upmix.add_argument(
        "--guidance-scale",
        type=float,
        help="classifier-free guidance, 1: off (default: the model's generation_config.json, else 1)",
    )
    upmix.add_argument(
        "--temperature",
        type=float,
        help="sampling temperature, 0: greedy (default: the model's generation_config.json, else 1)",
    )
    upmix.add_argument("--format", choices=FORMATS, help="output format in folder mode (default: the input's, or wav)")
    upmix.add_argument("--subtype", help="sample encoding, e.g. PCM_16, PCM_24 (default for wav/flac), FLOAT")
    upmix.add_argument("--overwrite", action="store_true", help="replace existing output files")
    upmix.add_argument(
        "--channel",
        choices=CHANNELS,
        default="mid",
        help="what a stereo input becomes: mid (L+R)/2 (default), left, right",
    )
    upmix.set_defaults(handler=run_upmix)


def info_arguments(info: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo info`."""
    info.description = "Print a model's configuration."
    info.add_argument("model", nargs="?", metavar="MODEL", help="folder saved with save_pretrained or a Hub id")
    info.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    info.set_defaults(handler=run_info)


PARSERS = {"upmix": upmix_arguments, "info": info_arguments}  # see mono2stereo.cli


def default_threads() -> int:
    """CPU threads used by default: half the cores this process may use, at least one (see benchmarks/RESULTS.md)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // 2)


def check_model_name(model: str | None) -> None:
    """Refuse an unknown `dsp:NAME` before anything is loaded."""
    if model and model.startswith(DSP_PREFIX):
        from ..dsp import dsp_upmixer_name

        try:
            dsp_upmixer_name(model)
        except ValueError as error:
            raise CommandError(str(error)) from None


def check_device(device: str | None) -> None:
    """Refuse a `--device` that this torch cannot use, with what to pass instead."""
    if device is None:
        return
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise CommandError(f"--device {device} is not a device torch knows; use cpu, cuda, cuda:1 or mps") from None
    if kind == "cuda" and not torch.cuda.is_available():
        build = "this torch is a CPU build" if torch.version.cuda is None else "torch sees no CUDA GPU"
        raise CommandError(f"--device {device}: {build}; use --device cpu (or install a CUDA build of torch)")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise CommandError(f"--device {device}: MPS is not available on this machine; use --device cpu")


def set_threads(threads: int | None) -> None:
    """Use `threads` CPU threads in torch (default: `default_threads`)."""
    if threads is not None and threads < 1:
        raise CommandError(f"--threads {threads} must be at least 1")
    import torch

    torch.set_num_threads(threads or default_threads())


def model_folder(model: str | None) -> str | None:
    """The local folder (or `dsp:NAME`) of `--model`, fetched first for a Hub id; failures as one line.

    Called before torch and transformers are imported, so a Hub id that cannot be had fails in a moment.
    """
    from .model_source import resolve_model

    try:
        return None if model is None else resolve_model(model)
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from None


def load(source: str | None, device: str | None):
    """The pipeline for a `model_folder` (None: the default model), with loading errors as one-line errors."""
    from transformers.utils import logging as transformers_logging

    from .pipeline import load_pipeline

    transformers_logging.disable_progress_bar()  # one bar per file is ours; a loading bar would only clutter stderr
    try:
        return load_pipeline(source, device)
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from None


def run_upmix(args: argparse.Namespace) -> int:
    """Upmix every input; report each failure on stderr and fail if any did.

    Everything that can be checked without the model (arguments, inputs, outputs, the device) is checked before
    it loads.
    """
    into_folder = output_is_folder(args.inputs, args.output)
    if args.format and not into_folder and not args.output.lower().endswith("." + args.format):
        raise CommandError(f"--format {args.format} does not match the output file {args.output}")
    check_model_name(args.model)
    settings = dict(
        style=args.style,
        width=args.width,
        render=args.render,
        seed=args.seed,
        num_variants=args.variants,
        window_seconds=args.window,
        overlap_seconds=args.overlap,
        batch_size=args.batch_size,
        guidance_scale=args.guidance_scale,
        temperature=args.temperature,
        target_width_db=args.target_width_db,
        channel=args.channel,
    )
    try:  # every number is checked before anything loads
        check_upmix_options(**{k: v for k, v in settings.items() if k not in ("style", "render")})
    except ValueError as error:
        raise CommandError(str(error)) from None
    files, unmatched = expand_inputs(args.inputs)
    jobs = plan_jobs(files, args.output, into_folder, args.variants, args.format, args.overwrite)
    failures = [f"{pattern}: {reason}" for pattern, reason in unmatched]
    failures += [job.error for job in jobs if job.error is not None]
    if not any(job.error is None for job in jobs):  # nothing left to upmix: say why without loading a model
        if is_quiet_process():  # several processes planned the same jobs: the main one says why
            return 1
        if len(failures) == 1:
            raise CommandError(failures[0])
        for failure in failures:
            tqdm.write(f"mono2stereo: error: {failure}", file=sys.stderr)
        raise CommandError(f"none of the {len(failures)} inputs can be upmixed; see the errors above")
    folder = args.output if into_folder else os.path.dirname(os.path.abspath(args.output))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create the output folder {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise CommandError(f"the output folder {folder} is not writable; choose another with -o")
    source = model_folder(args.model)
    check_device(args.device)
    set_threads(args.threads)
    pipeline = load(source, args.device or process_device())  # several processes: each on its own device
    try:
        pipeline.check_settings(args.style, args.width, args.render, args.variants, args.batch_size)
        pipeline.window_frames(args.window, args.overlap)
    except ValueError as error:
        raise CommandError(str(error)) from None

    for failure in [] if is_quiet_process() else failures:
        tqdm.write(f"mono2stereo: error: {failure}", file=sys.stderr)
    runnable = [job for job in jobs if job.error is None]
    job_failures, on_main = run_jobs(runnable, lambda job: upmix_one(job, pipeline, args, settings), "upmix")
    failures += job_failures
    if not on_main:  # the main process reports for all
        return 1 if failures else 0
    if failures:
        if len(failures) == 1 and len(args.inputs) == 1 and len(jobs) <= 1:
            sys.stderr.flush()  # the single failure is already on stderr; only the exit code is left to give
            return 1
        raise CommandError(f"{len(failures)} of {len(jobs) + len(unmatched)} inputs failed; see the errors above")
    return 0


def upmix_one(job, pipeline, args: argparse.Namespace, settings: dict) -> str | None:
    """Upmix one job; returns the error line, or None when the output was written."""
    quiet = True if is_quiet_process() else None
    with tqdm(desc=os.path.basename(job.input_path), unit="window", leave=False, disable=quiet) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            output = upmix_file(
                job.input_path, job.output_paths, pipeline, args.overwrite, args.subtype, progress=progress, **settings
            )
        except (ValueError, OSError, RuntimeError) as error:
            message = str(error)
            return message if job.input_path in message else f"{job.input_path}: {message}"
    if output.folded:
        warning = fold_warning(job.input_path, output.fold_level_db)
        if warning is not None:
            tqdm.write(f"mono2stereo: warning: {warning}", file=sys.stderr)
        elif args.channel == "mid":
            tqdm.write(f"mono2stereo: {job.input_path}: stereo input folded to mono (L+R)/2", file=sys.stderr)
    for message in gain_notices(output):
        tqdm.write(f"mono2stereo: {job.input_path}: {message}", file=sys.stderr)
    return None


def gain_notices(output) -> list[str]:
    """One line per variant whose level was changed for peak safety, with that variant's own gains."""
    notices = []
    side_gains = output.side_gain if output.side_gain is not None else [1.0] * len(output.peak_gain)
    several = len(output.peak_gain) > 1
    for index, (gain, side) in enumerate(zip(output.peak_gain, side_gains), start=1):
        name = f"v{index}: " if several else ""
        if gain < 1.0:
            notices.append(f"{name}the input peaks above full scale; scaled by {float(gain):.3f}")
        if side < 1.0:
            notices.append(
                f"{name}side turned down around peaks (down to {float(side):.2f}) to keep L and R below full scale"
            )
    return notices


def setting_text(value) -> str:
    """A generation setting as `info` shows it: numbers in short form, `free` for an unset width."""
    if value is None:
        return "free"
    return value if isinstance(value, str) else f"{value:g}"


def run_info(args: argparse.Namespace) -> int:
    """Print a model's configuration summary."""
    if args.model and args.model.startswith(DSP_PREFIX):
        raise CommandError(f"{args.model} is a DSP upmixer; it has no model configuration to show")
    check_device(args.device)
    pipeline = load(model_folder(args.model), args.device)
    model = pipeline.model
    config = model.config
    settings = model.generation_settings.to_dict()
    codec_parameters = sum(p.numel() for p in model.codec.parameters())
    transformer_parameters = model.num_transformer_parameters()
    low, high = config.width_db_range
    lines = [
        f"model: {args.model or 'default'} ({config.model_type})",
        f"sample rate: {config.sampling_rate} Hz",
        f"frame rate: {config.frame_rate:g} frames/s (hop {config.hop_length} samples)",
        f"codec: {config.codec_summary}",
        f"channel layout: {config.channel_layout}",
        f"window: {config.window_frames} frames ({config.window_seconds:g} s)",
        f"styles: {', '.join(config.styles)}",
        f"width control: {low:g} to {high:g} dB side-to-mid",
        f"transformer: hidden {config.hidden_size}, {config.num_encoder_layers} encoder + "
        f"{config.num_decoder_layers} decoder layers, {config.num_attention_heads} heads",
        f"parameters: {transformer_parameters:,} transformer + {codec_parameters:,} codec = "
        f"{transformer_parameters + codec_parameters:,}",
        "generation: " + ", ".join(f"{name} {setting_text(value)}" for name, value in settings.items()),
    ]
    print("\n".join(lines))
    return 0


__all__ = ["PARSERS", "run_upmix", "run_info"]
