"""cogrt's log lines for a program that embeds the server and set no logging up.

``python -m cogrt`` configures logging itself (:mod:`cogrt.cli.logging_setup`);
a script calling ``cogrt.serve(Predictor)`` may not have, and Python would
then drop every info line: setup started, completed in how long, serving on
which port, draining how many predictions. Those are what someone watching
a model come up needs, so ``serve()`` shows them on stderr, unless the
program configured logging (any handler, or a level for ``cogrt``).
"""

from __future__ import annotations

import logging
import sys

__all__ = ["default_logging"]


def default_logging() -> None:
    """Show cogrt's info lines on stderr when the process has no logging set up."""
    cogrt = logging.getLogger("cogrt")
    if cogrt.handlers or logging.getLogger().handlers or cogrt.level != logging.NOTSET:
        return
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    cogrt.addHandler(handler)
    cogrt.setLevel(logging.INFO)
    cogrt.propagate = False
