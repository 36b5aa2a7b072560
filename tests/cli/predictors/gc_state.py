"""Reports the garbage collector's state when this file was imported and when predict() ran."""

import gc

from cog import BasePredictor

AT_IMPORT = gc.isenabled()
FROZEN_AT_IMPORT = gc.get_freeze_count()  # what cogrt imported, out of the collector's sight


class Predictor(BasePredictor):
    def predict(self) -> str:
        return f"import={AT_IMPORT} predict={gc.isenabled()} frozen={FROZEN_AT_IMPORT}"
