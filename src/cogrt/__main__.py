"""``python -m cogrt``: the CLI (:mod:`cogrt.cli`), under :mod:`cogrt.supervisor` when serving.

Only the supervisor is imported here: it forks the runtime before the CLI's
imports run, so the supervising process stays small.
"""

import sys

from cogrt.supervisor.entry import main

if __name__ == "__main__":
    sys.exit(main())
