"""Annotated[T, Opaque] is an object; an opaque list keeps its array shape."""

from typing import Annotated

from cog import BasePredictor, Opaque


class Predictor(BasePredictor):
    def predict(
        self,
        payload: Annotated[dict, Opaque],
        rows: Annotated[list[dict], Opaque],
    ) -> str:
        return "ok"
