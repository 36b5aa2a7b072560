"""Submodules of the ``cog`` compatibility module; see ``src/cog.py``."""
