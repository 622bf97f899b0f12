"""`python -m mono2stereo.training.codec ARGS`: the older spelling of `mono2stereo train-codec ARGS`, kept working.

mono2stereo train-codec --config configs/codec/small-24k.yaml --output-dir outputs/codec [--resume]
"""

from __future__ import annotations

import sys

from ...cli import run_command


def main(argv: list[str] | None = None) -> int:
    """Train the codec as `mono2stereo train-codec` does; returns the exit code."""
    return run_command("train-codec", argv, prog="python -m mono2stereo.training.codec")


if __name__ == "__main__":
    sys.exit(main())
