# The legacy document's example with a predict() argument no @cog.input
# declares ("each argument name must correspond to a @cog.input() annotation").
import cog
from pathlib import Path
import torch


class ImageScalingPredictor(cog.Predictor):
    def setup(self):
        self.model = torch.load("weights.pth")

    @cog.input("input", type=Path, help="Image to enlarge")
    def predict(self, input, scale):
        output = self.model(input)
        return output
