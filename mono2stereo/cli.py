"""The `mono2stereo` command: a thin dispatcher over the library's functions.

Every command is a row of `COMMANDS`: its name, the module that defines it and its one-line help. That module's
`PARSERS` maps the command to a function that fills its parser: the description, the arguments, and `handler=`
(set with `set_defaults`: a function taking the parsed arguments and returning an exit code). A handler raises
`mono2stereo.errors.CommandError` for a failure to show as one line.

`mono2stereo --help` lists the commands from `COMMANDS` alone, and a run imports only the module of its own command,
so the command line starts fast (torch and transformers take seconds to load); command modules import those only
inside their handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import CommandError

COMMANDS: dict[str, tuple[str, str]] = {
    "upmix": ("mono2stereo.inference.cli", "upmix mono (or folded stereo) audio files to stereo"),
    "info": ("mono2stereo.inference.cli", "describe a model"),
    "mix": ("mono2stereo.mixing.cli", "place stems (drums, bass, vocals, ...) into a stereo mix"),
    "train": ("mono2stereo.training.cli", "train a model from a YAML config (also under `accelerate launch`)"),
    "finetune": ("mono2stereo.training.cli", "teach a trained model a new mixing style"),
    "corpus": ("mono2stereo.training.corpus", "build the training data: Debian's stereo songs and multitrack renders"),
    "tokenize": ("mono2stereo.training.cli", "encode a config's sources into token shards ahead of time"),
    "train-codec": ("mono2stereo.training.cli", "train the small EnCodec-architecture codec from a YAML config"),
    "release": ("mono2stereo.training.cli", "save a trained run as a model folder with its model card"),
    "eval": ("mono2stereo.evaluation.cli", "score upmix systems against reference stereo tracks"),
}

# The optional dependencies of each extra (pyproject.toml), to say which extra a missing module comes with.
EXTRA_MODULES = {
    "train": ("accelerate", "datasets", "peft", "yaml", "tensorboard", "mido"),
    "eval": ("matplotlib",),
    "space": ("gradio",),
}


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


def command_parser(command: str) -> Callable[[argparse.ArgumentParser], None]:
    """The function that fills the parser of `command`, from the module `COMMANDS` names (imported here)."""
    module_name, _ = COMMANDS[command]
    return importlib.import_module(module_name).PARSERS[command]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser: every subcommand, in full for the one `argv` runs (all of them without `argv`)."""
    parser = argparse.ArgumentParser(
        prog="mono2stereo",
        description="AI mono-to-stereo music upmixer.",
    )
    parser.add_argument("--version", action="version", version=f"mono2stereo {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None) if argv is not None else None
    for command, (_, summary) in COMMANDS.items():
        if argv is not None and command != chosen:  # listed by name only; not this run's command
            subparsers.add_parser(command, help=summary, add_help=False)
        else:
            command_parser(command)(subparsers.add_parser(command, help=summary))
    return parser


def run_handler(args: argparse.Namespace, command: str, prog: str = "mono2stereo") -> int:
    """Run the handler the parsed `args` name; a `CommandError`, a missing extra or Ctrl-C become one line."""
    try:
        return int(args.handler(args) or 0)
    except CommandError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        message = missing_extra_message(command, error)
        if message is None:
            raise
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def run_command(command: str, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`mono2stereo COMMAND ARGV` as a program of its own named `prog`: the older `python -m` entry points."""
    parser = argparse.ArgumentParser(prog=prog, description=COMMANDS[command][1])
    command_parser(command)(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return run_handler(args, command, prog or parser.prog)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    return run_handler(args, next((arg for arg in argv if not arg.startswith("-")), ""))


if __name__ == "__main__":
    sys.exit(main())
