"""``cog.model``."""

from cogrt.sdk.model import *  # noqa: F403
from cogrt.sdk.model import __all__  # noqa: F401
