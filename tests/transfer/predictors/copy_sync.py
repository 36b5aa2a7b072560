import os
import threading

from cog import BasePredictor, Path

CALLS = []
OUT_DIR = None  # set by the test: outputs must not land in the watched temp dir
STARTED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    def predict(self, doc: Path, mode: str = "copy") -> Path:
        CALLS.append(str(doc))
        if mode == "fail":
            raise RuntimeError("predictor refused " + doc.name)
        if mode == "block":
            STARTED.set()
            while not RELEASE.wait(0.005):  # bytecode boundaries: cancel can land here
                pass
        out = Path(OUT_DIR) / f"copy-{os.path.basename(mode)}.bin"
        out.write_bytes(doc.read_bytes())
        return out
