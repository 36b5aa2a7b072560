"""A training function alone: the train-mode document (§21.3). TRAIN_REF names it."""

from cog import BaseModel, Input, Path

TRAIN_REF = "train"


class TrainingOutput(BaseModel):
    weights: Path


def train(
    n: int = Input(description="Epochs", ge=1),
    optimizer: str = Input(default="adam", choices=["adam", "sgd"]),
) -> TrainingOutput:
    return TrainingOutput(weights=Path("weights.bin"))
