"""Raises while the module imports: setup fails with this file's frame, once."""

raise ValueError("cannot import this model")
