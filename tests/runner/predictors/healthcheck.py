"""healthcheck() answers whatever the test put in BEHAVIOUR."""

import time

from cog import BasePredictor

BEHAVIOUR = {"mode": "ok"}


class Predictor(BasePredictor):
    def predict(self) -> str:
        return "ok"

    def healthcheck(self) -> object:
        mode = BEHAVIOUR["mode"]
        if mode == "false":
            return False
        if mode == "none":
            return None
        if mode == "raise":
            raise ConnectionError("database unreachable")
        if mode == "slow":
            time.sleep(1.0)
        return True
