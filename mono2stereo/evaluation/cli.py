"""The `mono2stereo eval` command: score upmix systems against reference stereo tracks.

mono2stereo eval --refs DIR --systems default dsp:allpass PATH_OR_ID ... --output-dir DIR
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tqdm import tqdm

from ..errors import CommandError


def eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo eval`."""
    parser.description = (
        "Fold each reference stereo track to mono, upmix it with every system and compare the result with the "
        "reference: spatial-cue distances and errors, width, fold-down fidelity; writes a table and plots."
    )
    parser.add_argument("--refs", required=True, help="folder of reference stereo tracks (wav, flac, ogg, opus, mp3)")
    parser.add_argument(
        "--systems",
        nargs="+",
        required=True,
        help="systems to compare: 'default' (the default model), a local model path, a Hub id, dsp:NAME "
        "(dsp:dual, dsp:lauridsen, dsp:allpass, dsp:orban, dsp:sources), mean:MODEL (a spatial model's mean "
        "decoding: the regression baseline) or psnn:INDEX (nearest-neighbour cues from an index built by "
        "`python -m mono2stereo.evaluation.psnn`)",
    )
    parser.add_argument("--output-dir", required=True, help="folder for results.{md,csv,json} and the PNG plots")
    parser.add_argument("--track", help="reference track (file name or stem) for the stereo-field plot; default first")
    parser.add_argument("--seed", type=int, default=0, help="seed for model systems (default 0)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="upmix with N seeds (SEED, SEED+1, ...) per model system and average the scores over them (default 1)",
    )
    parser.add_argument("--max-seconds", type=float, help="crop every reference to its first N seconds")
    parser.add_argument(
        "--num-variants", type=int, default=1, help="upmixes per track for model systems; scores are best-of-N"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="windows a model system generates at once (default: the model's own, as `mono2stereo upmix` uses)",
    )
    parser.set_defaults(handler=run_eval)


PARSERS = {"eval": eval_arguments}  # see mono2stereo.cli


def resolve_systems(names: list[str], num_variants: int, batch_size: int | None = None) -> dict:
    """Map each system name on the command line to its system (`systems.system_for`), failing before any audio is
    processed."""
    from .systems import system_for

    systems = {}
    for name in names:
        try:
            systems[name] = system_for(name, num_variants, batch_size)
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error
    return systems


def _file_name(track: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", track)


def run_eval(args: argparse.Namespace) -> int:
    """Handler of `mono2stereo eval`."""
    try:  # matplotlib comes with the `eval` extra, not the base install
        from .evaluate import evaluate_systems, load_reference, reference_files
        from .plots import plot_band_cues, plot_stereo_field
        from .report import markdown_table, write_tables
        from .systems import upmix_seeds
    except ModuleNotFoundError as error:
        raise CommandError(
            f"eval needs {error.name}, which is not installed; install it with pip install 'mono2stereo[eval]'"
        ) from error
    if args.num_variants < 1:
        raise CommandError(f"--num-variants {args.num_variants} must be at least 1")
    if args.seeds < 1:
        raise CommandError(f"--seeds {args.seeds} must be at least 1")
    if args.batch_size is not None and args.batch_size < 1:
        raise CommandError(f"--batch-size {args.batch_size} must be at least 1")
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise CommandError(f"--max-seconds {args.max_seconds} must be positive")
    try:
        files = reference_files(args.refs)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    systems = resolve_systems(list(dict.fromkeys(args.systems)), args.num_variants, args.batch_size)

    field_track = files[0].stem
    if args.track is not None:
        matches = [path.stem for path in files if args.track in (path.name, path.stem)]
        if not matches:
            names = ", ".join(path.name for path in files)
            raise CommandError(f"--track {args.track!r} is not among the references ({names})")
        field_track = matches[0]

    try:
        references = [load_reference(path, args.max_seconds) for path in files]
    except ValueError as error:
        raise CommandError(str(error)) from error
    upmixes = sum(len(upmix_seeds(upmixer, args.seed, args.seeds)) for upmixer in systems.values())
    with tqdm(total=len(references) * upmixes, desc="eval", unit="upmix") as progress:

        def advance(track: str, system: str) -> None:
            progress.set_postfix_str(f"{track} / {system}")
            progress.update()

        try:
            result = evaluate_systems(
                references, systems, args.seed, field_track, on_step=advance, num_seeds=args.seeds
            )
        except ValueError as error:
            raise CommandError(str(error)) from error

    output_dir = Path(args.output_dir)
    written = write_tables(result, output_dir)
    written.append(plot_band_cues(result, output_dir / "band_cues.png"))
    written.append(plot_stereo_field(result, output_dir / f"stereo_field_{_file_name(field_track)}.png"))
    print(markdown_table(result))
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
