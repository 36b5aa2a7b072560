"""Echo predictor: the cheapest possible sync prediction.

It measures pure serving overhead (HTTP parsing, validation, dispatch to the
predict thread, JSON encoding) because predict itself does nothing.
"""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing to load; present so servers exercise their setup path."""

    def predict(self, text: str = Input(default="hi")) -> str:
        return text
