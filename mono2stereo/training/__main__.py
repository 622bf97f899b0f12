"""`python -m mono2stereo.training` and `accelerate launch -m mono2stereo.training train ...`."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["train"] + sys.argv[1:] if len(sys.argv) > 1 and sys.argv[1].startswith("-") else sys.argv[1:]))
