"""The smallest useful Cog model: a sync predictor that greets.

Run it with ``cd examples/hello && python -m cogrt`` and try
``curl -s -XPOST localhost:5000/predictions -d '{"input":{"name":"world"}}'``.
"""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.greeting = "hello"

    def predict(self, name: str = Input(description="Who to greet", default="world")) -> str:
        return f"{self.greeting} {name}"
