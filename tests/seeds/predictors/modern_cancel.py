# The modern document's cancellation example, as written; process() makes the
# blocking call the test names in HOW, and the test learns of each step.
import queue
import subprocess
import threading
import time
from collections.abc import Callable

from cog import BasePredictor, CancelationException, Path

HOW = "sleep"
ENTERED: Callable[[], None] = lambda: None
CLEANUP: Callable[[], None] = lambda: None
CLEANUP_GATE = threading.Event()
CLEANED: list[object] = []
CHILDREN: list[subprocess.Popen] = []


class Predictor(BasePredictor):
    def predict(self, image: Path) -> Path:
        try:
            return self.process(image)
        except CancelationException:
            self.cleanup()
            raise  # Always re-raise!

    def process(self, image: Path) -> Path:
        ENTERED()
        if HOW == "sleep":
            time.sleep(3600)
        elif HOW == "event":
            threading.Event().wait(3600)
        elif HOW == "event_forever":
            threading.Event().wait()
        elif HOW == "condition":
            condition = threading.Condition()
            with condition:
                condition.wait(3600)
        elif HOW == "queue":
            queue.Queue().get(timeout=3600)
        elif HOW == "popen_wait":
            CHILDREN.append(subprocess.Popen(["sleep", "3600"]))
            CHILDREN[-1].wait()
        elif HOW == "run_capture":
            subprocess.run(["sleep", "3600"], capture_output=True, check=False)
        return image

    def cleanup(self) -> None:
        CLEANUP()
        # Cleanup after the cancel blocks normally: the test sets the gate.
        CLEANED.append(CLEANUP_GATE.wait(30))
