"""A trainer class apart from the predictor, without predict(): set up on first use (§21.2)."""

from cog import BasePredictor

SETUP_CALLS: list[str] = []


class Trainer(BasePredictor):
    def setup(self) -> None:
        print("Trainer is setting up.")
        SETUP_CALLS.append("setup")

    def train(self, s: str = "world") -> str:
        return f"hello train {s}"
