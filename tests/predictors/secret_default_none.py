"""A bare Secret with default=None is optional and nullable (§7.3 rule 1), unlike other types."""

from cog import BasePredictor, Input, Secret


class Predictor(BasePredictor):
    def predict(self, api_key: Secret = Input(default=None, description="API key")) -> str:
        return "ok"
