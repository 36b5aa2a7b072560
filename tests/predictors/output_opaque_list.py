"""Annotated[list[T], Opaque] as output: an array of objects, whatever T is."""

from typing import Annotated

from cog import BasePredictor, Opaque


class Predictor(BasePredictor):
    def predict(self, text: str) -> Annotated[list[int], Opaque]:
        return [1]
