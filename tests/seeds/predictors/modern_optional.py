# The modern document's annotated predict(), with the optional inputs the
# issue names (Optional[...] = Input(default=None)).
from typing import Optional

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        prompt: str = Input(description="Input prompt"),
        temperature: Optional[float] = Input(default=None, ge=0.0, le=2.0),
        max_tokens: Optional[int] = Input(default=100, ge=1),
    ) -> str:
        return f"prompt={prompt!r} temperature={temperature!r} max_tokens={max_tokens!r}"
