"""Ends the interpreter with ``os._exit(1)`` when asked to ("exit"); describes the process it
runs in ("probe"); echoes anything else."""

import os
import sys

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "hi") -> str:
        if text == "exit":
            os._exit(1)
        if text == "probe":  # what a runtime the supervisor spawned sees of its start
            first = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]
            return (
                f"COGRT_SUPERVISED set: {'COGRT_SUPERVISED' in os.environ}, "
                f"PYTHONPATH on sys.path: {first in sys.path}, parent: {os.getppid()}"
            )
        return text
