# The legacy document's opening example, as written ("Prediction interface
# reference"): `scale` is declared but predict() does not take it.
import cog
from pathlib import Path
import torch


class ImageScalingPredictor(cog.Predictor):
    def setup(self):
        self.model = torch.load("weights.pth")

    @cog.input("input", type=Path, help="Image to enlarge")
    @cog.input("scale", type=float, default=1.5, help="Factor to scale image by")
    def predict(self, input):
        # ... pre-processing ...
        output = self.model(input)
        # ... post-processing ...
        return output
