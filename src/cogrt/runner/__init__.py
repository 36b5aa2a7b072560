"""Execution engine: lifecycle, admission, the worker thread, cancel, streaming, logs."""
