"""The `mono2stereo mix` command: a thin wrapper over `mix` and the file functions."""

from __future__ import annotations

import argparse
import os
import sys

from tqdm.auto import tqdm

from ..errors import CommandError
from ..inference.catalogue import is_quiet_process, process_device, run_jobs
from ..inference.cli import FORMATS
from ..inference.files import is_audio_name
from .files import MixJob, mix_file, plan_mix_jobs
from .styles import MIXING_STYLES


def mix_arguments(command: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo mix`."""
    command.description = (
        "Mix stems into stereo: each stem gets a place from the mixing style and its role (from its name, or given "
        "as role=path), polyphonic stems the upmixer's own image, and all a shared room. The mix folds down to the "
        "sum of the stems. A folder of song folders mixes each song."
    )
    command.add_argument(
        "stems", nargs="+", metavar="STEM", help="stem files, role=path, a folder of stems, or a folder of songs"
    )
    command.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="the mix's file, or a folder (for a folder of songs)"
    )
    command.add_argument("--style", choices=MIXING_STYLES, default="modern", help="mixing style (default: modern)")
    command.add_argument("--seed", type=int, help="random seed: the same seed, the same placement (default: drawn)")
    command.add_argument("--variants", type=int, default=1, help="independent placements, written as NAME-v1, ...")
    command.add_argument(
        "--model", help="upmixer for polyphonic stems: a folder, a Hub id or dsp:NAME (default: built in)"
    )
    command.add_argument("--no-upmix", action="store_true", help="place every stem as a point, without an upmixer")
    command.add_argument("--pad", action="store_true", help="pad shorter stems with silence (and resample rates)")
    command.add_argument(
        "--report",
        nargs="?",
        const=True,
        metavar="JSON",
        help="write the placement report (and a .png picture beside it); default path: NAME.placement.json",
    )
    command.add_argument("--device", help="cpu, cuda, cuda:1, mps... for the upmixer (default: a GPU if any)")
    command.add_argument("--format", choices=FORMATS, help="output format in folder mode (default: wav)")
    command.add_argument("--subtype", help="sample encoding, e.g. PCM_16, PCM_24 (default for wav/flac), FLOAT")
    command.add_argument("--overwrite", action="store_true", help="replace existing output files")
    command.set_defaults(handler=run_mix)


PARSERS = {"mix": mix_arguments}  # see mono2stereo.cli


def run_mix(args: argparse.Namespace) -> int:
    """Mix every song; report each failure on stderr and fail if any did."""
    if args.variants < 1:
        raise CommandError(f"--variants {args.variants} must be 1 or more")
    if isinstance(args.report, str) and is_audio_name(args.report):
        raise CommandError(
            f"--report {args.report}: the report is a .json file; put --report after the stems, or use --report=PATH"
        )
    try:
        jobs = plan_mix_jobs(args.stems, args.output, args.variants, args.format, args.report, args.overwrite)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.format and len(jobs) == 1 and not jobs[0].output_paths[0].endswith("." + args.format):
        raise CommandError(f"--format {args.format} does not match the output file {args.output}")
    for folder in sorted({os.path.dirname(os.path.abspath(path)) for job in jobs for path in job.output_paths}):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise CommandError(f"cannot create the output folder {folder}: {error.strerror}") from None
    settings = dict(
        style=args.style,
        seed=args.seed,
        num_variants=args.variants,
        model=args.model,
        upmix=not args.no_upmix,
        device=args.device or process_device(),
    )
    failures, on_main = run_jobs(jobs, lambda job: job.error or mix_one(job, args, settings), "mix", unit="song")
    if not on_main:
        return 1 if failures else 0
    if failures:
        if len(jobs) == 1:
            sys.stderr.flush()  # the failure is already on stderr; only the exit code is left to give
            return 1
        raise CommandError(f"{len(failures)} of {len(jobs)} songs failed; see the errors above")
    return 0


def mix_one(job: MixJob, args: argparse.Namespace, settings: dict) -> str | None:
    """Mix one song; returns the error line, or None when the mix (and its report) was written."""
    quiet = True if is_quiet_process() else None
    with tqdm(desc=job.name, unit="stem", leave=False, disable=quiet) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            output = mix_file(job, args.overwrite, args.subtype, args.pad, progress=progress, **settings)
        except (ValueError, OSError, RuntimeError) as error:
            return f"{job.name}: {error}"
    for placement, path in zip(output.placements, job.output_paths):
        stems = ", ".join(
            f"{stem.name} {stem.pan:+.2f}{' (upmixed)' if stem.upmixed else ''}" for stem in placement.stems
        )
        tqdm.write(f"mono2stereo: {path}: {placement.style}, seed {placement.seed}: {stems}", file=sys.stderr)
        if placement.peak_gain < 1.0:
            tqdm.write(
                f"mono2stereo: {path}: scaled by {placement.peak_gain:.3f} to keep peaks below full scale",
                file=sys.stderr,
            )
    return None


__all__ = ["PARSERS", "run_mix"]
