from typing import List

from cog import BasePredictor, Path

OUT_DIR = None


class Predictor(BasePredictor):
    def predict(self, count: int = 1) -> List[Path]:
        paths = []
        for i in range(count):
            out = Path(OUT_DIR) / f"list-{i}.txt"
            out.write_text(f"list {i}")
            paths.append(out)
        return paths
