from cog import BasePredictor, current_scope


class Predictor(BasePredictor):
    def predict(self, bad: str = "") -> str:
        self.record_metric("temperature", 0.7)
        self.record_metric("tokens", 1, mode="incr")
        self.record_metric("tokens", 2, mode="incr")
        self.record_metric("timing.preprocess", 0.12)
        self.record_metric("steps", "a", mode="append")
        self.record_metric("steps", "b", mode="append")
        self.scope.metrics["gone"] = 1
        del self.scope.metrics["gone"]
        self.record_metric("nulled", 5)
        self.record_metric("nulled", None)
        if bad:
            current_scope().record_metric(bad, 1)
        return "ok"
