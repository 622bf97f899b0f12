"""The `mono2stereo` command: a thin dispatcher over the library's functions.

Each part of the package contributes its subcommands from its own `cli` module, which defines
`register(subparsers)`: it adds its parsers and sets `handler=` (a function taking the parsed
arguments and returning an exit code) with `set_defaults`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

# Modules that add subcommands; a part that is not built yet is simply absent.
COMMAND_MODULES = (
    "mono2stereo.inference.cli",  # upmix, info
    "mono2stereo.mixing.cli",  # mix
    "mono2stereo.training.cli",  # train, finetune, tokenize
    "mono2stereo.evaluation.cli",  # eval
)
# The commands of a module listed here, with their one-line help, so that `mono2stereo --help` can list them
# without importing it (torch and transformers take seconds to load): only the module whose command runs is
# imported. A module of COMMAND_MODULES not listed here is imported every time.
COMMAND_SUMMARIES = {
    "mono2stereo.mixing.cli": {"mix": "place stems (drums, bass, vocals, ...) into a stereo mix"},
    "mono2stereo.training.cli": {
        "train": "train a model from a YAML config (also under `accelerate launch`)",
        "finetune": "teach a trained model a new mixing style",
        "tokenize": "encode a config's sources into token shards ahead of time",
    },
    "mono2stereo.evaluation.cli": {"eval": "score upmix systems against reference stereo tracks"},
}


# The optional dependencies of each extra (pyproject.toml), to say which extra a missing module comes with.
EXTRA_MODULES = {
    "train": ("accelerate", "datasets", "peft", "yaml", "tensorboard", "mido"),
    "eval": ("matplotlib",),
    "space": ("gradio",),
}


class CommandError(Exception):
    """An error to show the user as one line on stderr, without a traceback."""


def missing_extra_message(command: str, error: ModuleNotFoundError) -> str | None:
    """The one line for a command that needs an extra that is not installed; None for another missing module."""
    top = (error.name or "").split(".")[0]
    for extra, modules in EXTRA_MODULES.items():
        if top in modules:
            return (
                f"`mono2stereo {command}` needs {top}, which comes with the `{extra}` extra: "
                f"pip install 'mono2stereo[{extra}]'"
            )
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser: every subcommand, in full for the one `argv` runs (all of them without `argv`)."""
    parser = argparse.ArgumentParser(
        prog="mono2stereo",
        description="AI mono-to-stereo music upmixer.",
    )
    parser.add_argument("--version", action="version", version=f"mono2stereo {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None) if argv is not None else None
    for name in COMMAND_MODULES:
        summaries = COMMAND_SUMMARIES.get(name)
        if argv is not None and summaries is not None and chosen not in summaries:
            for command, summary in summaries.items():  # listed by name only; not this run's command
                subparsers.add_parser(command, help=summary, add_help=False)
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and name.startswith(error.name):
                continue  # that part of the package does not exist yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except CommandError as error:
        print(f"mono2stereo: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        command = next((arg for arg in argv if not arg.startswith("-")), "")
        message = missing_extra_message(command, error)
        if message is None:
            raise
        print(f"mono2stereo: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mono2stereo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
