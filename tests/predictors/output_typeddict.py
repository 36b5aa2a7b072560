"""A TypedDict output: required keys follow total=False, Required and NotRequired."""

from typing import NotRequired, Required, TypedDict

from cog import BasePredictor


class Stats(TypedDict, total=False):
    mean: Required[float]
    count: int


class Summary(TypedDict):
    title: str
    note: NotRequired[str]
    stats: Stats


class Predictor(BasePredictor):
    def predict(self, text: str) -> Summary:
        return {"title": text, "stats": {"mean": 0.0}}
