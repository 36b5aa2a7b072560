import io
import sys

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        own = io.StringIO()
        saved = sys.stdout
        sys.stdout = own
        try:
            print("into my own stream")
        finally:
            sys.stdout = saved
        return own.getvalue()
