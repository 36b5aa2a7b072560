"""``cog.types``."""

from cogrt.sdk.types import *  # noqa: F403
from cogrt.sdk.types import __all__  # noqa: F401
