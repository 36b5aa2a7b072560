"""``python -m cogrt``: see :mod:`cogrt.cli`."""

import sys

from cogrt.cli import main

if __name__ == "__main__":
    sys.exit(main())
