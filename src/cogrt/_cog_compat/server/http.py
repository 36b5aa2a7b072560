"""``python -m cog.server.http``: Cog's default container command, served by cogrt.

The predictor reference comes from ``COG_PREDICT_TYPE_STUB`` or ``cog.yaml``,
exactly as Cog's launcher finds it. Supervised like ``python -m cogrt``.
"""

import sys

from cogrt.supervisor import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
