import logging
import sys
import threading

from cog import BasePredictor

# A handler made at import binds to the sys.stderr of that moment: cogrt's
# capturing stream, since cogrt imports the model after installing it.
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
_logger = logging.getLogger("model")
_logger.addHandler(_handler)
_logger.setLevel(logging.INFO)
_logger.propagate = False


class Predictor(BasePredictor):
    def predict(self, fail: bool = False) -> str:
        print("from print")
        sys.stderr.write("to stderr\n")
        _logger.info("from logging")
        helper = threading.Thread(target=print, args=("from a helper thread",))
        helper.start()
        helper.join()
        sys.stdout.write("partial line")
        if fail:
            raise ValueError("bad input")
        return "done"
