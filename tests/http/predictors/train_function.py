"""A training function returning a TrainingOutput with a file (``--x-mode train``, §21)."""

import tempfile

from cog import BaseModel, Input, Path


class TrainingOutput(BaseModel):
    weights: Path
    epochs: int


def train(n: int = Input(description="Epochs", ge=1)) -> TrainingOutput:
    print(f"training for {n} epochs")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as out:
        out.write(f"hello train world {n}")
    return TrainingOutput(weights=Path(out.name), epochs=n)
