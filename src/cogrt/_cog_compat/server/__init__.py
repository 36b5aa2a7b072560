"""``cog.server``."""
