from cog import BasePredictor, Path

OUT_DIR = None


class Predictor(BasePredictor):
    def predict(self, mib: int = 50) -> Path:
        out = Path(OUT_DIR) / "big.bin"
        with open(out, "wb") as handle:
            block = bytes(range(256)) * 4096  # 1 MiB
            for _ in range(mib):
                handle.write(block)
        return out
