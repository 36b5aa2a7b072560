# The modern document's record_metric() and scope examples, as written, then
# the "replace" mode it documents ("Overwrite any previous value") on values
# of another type, and an "incr" that cannot add.
from cog import BasePredictor
import torch


class Predictor(BasePredictor):
    def setup(self):
        self.model = torch.load("weights.pth")

    def predict(self, prompt: str) -> str:
        self.record_metric("temperature", 0.7)
        self.record_metric("token_count", 1, mode="incr")
        self.record_metric("timing.preprocess", 0.12)
        result = self.model.generate(prompt)
        # Direct dict-style access
        self.scope.metrics["token_count"] = 42
        # Delete a metric
        del self.scope.metrics["token_count"]
        # Record with mode
        self.scope.record_metric("steps", "preprocessing", mode="append")
        # replace: an int by a float, a float by a string, a string by a dict
        self.record_metric("count", 1)
        self.record_metric("count", 1.5, mode="replace")
        self.record_metric("temperature", "hot")
        self.record_metric("timing.preprocess", {"ms": 120})
        # incr on a non-number: logged, the metric left as it was
        self.record_metric("temperature", 1, mode="incr")
        return result
