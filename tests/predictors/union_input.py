"""JSON-native unions become anyOf; without None they are required unless defaulted."""

from typing import Union

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        value: str | int,
        amount: Union[int, float] = Input(default=1, description="Amount"),
        items: list[str] | str = "x",
    ) -> str:
        return str(value)
