"""The test suite, one folder per package folder of `mono2stereo/`."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the repository root: configs/, examples/, space/, README.md
