"""String constraints: regex -> pattern, min_length/max_length -> minLength/maxLength."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        code: str = Input(regex=r"^[a-z]+\d*$", min_length=1, max_length=8),
    ) -> str:
        return code
