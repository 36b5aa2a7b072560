"""predict() and train() on one class: the combined document (§21.3).

Both halves declare a choices input named `size`; the prediction half keeps
its enum component and the training half's one is dropped, as in Cog.
"""

from typing import Iterator

from cog import BasePredictor, Input, Path, streaming

TRAIN_REF = "Predictor"


class Predictor(BasePredictor):
    @streaming
    def predict(
        self, prompt: str, size: str = Input(default="s", choices=["s", "m"])
    ) -> Iterator[str]:
        yield prompt

    def train(
        self,
        data: Path,
        size: str = Input(default="l", choices=["l", "xl"]),
        epochs: int = 3,
    ) -> Path:
        return data
