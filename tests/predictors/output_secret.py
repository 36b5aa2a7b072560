"""A Secret output uses the same password fragment as a Secret input."""

from cog import BasePredictor, Secret


class Predictor(BasePredictor):
    def predict(self, name: str) -> Secret:
        return Secret(name)
