"""``cog.server.exceptions``: the classic home of ``CancelationException``."""

from cogrt.errors import CancelationException

__all__ = ["CancelationException"]
