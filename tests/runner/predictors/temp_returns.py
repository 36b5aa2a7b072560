"""Returns files written to fresh ``mkdtemp()`` dirs (the seed documents' pattern), in any shape.

``AsyncPredictor`` is the same in ``async def``; ``train`` makes it a trainer too.
"""

import tempfile
from typing import Any

from cog import BaseModel, BasePredictor, Path


class Output(BaseModel):
    image: Path
    caption: str


def fresh(name: str, text: str) -> Path:
    out = Path(tempfile.mkdtemp()) / name
    out.write_text(text)
    return out


def make(shape: str) -> Any:
    if shape == "path":
        return fresh("one.txt", "one")
    if shape == "list":
        return [fresh("a.txt", "a"), fresh("b.txt", "b")]
    if shape == "twice":
        twice = fresh("twice.txt", "twice")
        return [twice, twice]
    if shape == "dict":
        return {"first": fresh("first.txt", "first"), "nested": {"deeper": [fresh("d.txt", "d")]}}
    if shape == "model":
        return Output(image=fresh("image.png", "png"), caption="a caption")
    if shape == "one_dir":
        folder = Path(tempfile.mkdtemp())
        for name in ("x.txt", "y.txt"):
            (folder / name).write_text(name)
        return [folder / "x.txt", folder / "y.txt"]
    if shape == "unencodable":  # the file is stored, then the next item fails the prediction
        return [fresh("before.txt", "before"), object()]
    raise ValueError(shape)


class Predictor(BasePredictor):
    def predict(self, shape: str) -> Any:
        return make(shape)

    def train(self, shape: str) -> Any:
        return make(shape)


class AsyncPredictor(BasePredictor):
    async def predict(self, shape: str) -> Any:
        return make(shape)
