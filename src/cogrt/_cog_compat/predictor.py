"""``cog.predictor``."""

from cogrt.sdk.predictor import *  # noqa: F403
from cogrt.sdk.predictor import __all__  # noqa: F401
