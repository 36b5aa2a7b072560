from typing import Iterator

from cog import BasePredictor, Path

OUT_DIR = None


class Predictor(BasePredictor):
    def predict(self, count: int = 3, text_between: bool = False) -> Iterator[Path]:
        for i in range(count):
            if text_between:
                yield f"text-{i}"
            out = Path(OUT_DIR) / f"{i}.txt"
            out.write_text(f"item {i}")
            yield out
