"""``cog.exceptions``: the documented home of ``CancelationException``."""

from cogrt.errors import CancelationException

__all__ = ["CancelationException"]
