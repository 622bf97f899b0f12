"""`python -m mono2stereo.training COMMAND ...` is `mono2stereo COMMAND ...` (an older spelling, kept working).

Launch commands: `accelerate launch -m mono2stereo train ...` (or `-m mono2stereo.training train ...`).
"""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main())
