"""The modern spelling of legacy_decorators.py; legacy default=None means Optional[T]."""

from typing import Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(
        self,
        prompt: str = Input(description="Text prompt"),
        steps: int = Input(default=20, ge=1, le=50, description="Steps"),
        image: Optional[Path] = Input(default=None, description="Init image"),
        sampler: str = Input(default="ddim", choices=["ddim", "plms"]),
        strength: float = Input(default=0.8, ge=0, le=1),
    ):
        return prompt
