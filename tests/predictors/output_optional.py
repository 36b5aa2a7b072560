"""Optional[T] output (rejected by Cog's build): cogrt documents T plus nullable (§7.4)."""

from typing import Optional

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str) -> Optional[str]:
        return text or None
