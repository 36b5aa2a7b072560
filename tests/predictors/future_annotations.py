"""String annotations from `from __future__ import annotations` resolve like real ones."""

from __future__ import annotations

from typing import Iterator, Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path,
        mask: Optional[Path] = Input(default=None),
        steps: int | None = None,
    ) -> Iterator[Path]:
        yield image
