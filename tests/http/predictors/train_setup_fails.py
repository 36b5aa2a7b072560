"""A trainer whose setup() raises: trainings fail with it, health and predictions do not."""

from cog import BasePredictor

SETUP_CALLS: list[str] = []


class Trainer(BasePredictor):
    def setup(self) -> None:
        SETUP_CALLS.append("setup")
        print("loading weights")
        raise RuntimeError("no weights here")

    def train(self, s: str = "world") -> str:
        return f"hello train {s}"
