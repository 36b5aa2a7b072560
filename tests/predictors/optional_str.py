"""Optional inputs: nullable, never required; a default (even None) is emitted only if given."""

from typing import Optional

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        prompt: Optional[str] = Input(default=None, description="Prompt"),
        negative: Optional[str] = Input(description="No default given"),
        style: str | None = "plain",
    ) -> str:
        return f"{prompt}{negative}{style}"
