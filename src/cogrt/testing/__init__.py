"""Test your own predictor in process: ``Client`` (sync), ``AsyncClient``, a pytest plugin.

    from cogrt.testing import Client

    def test_hello() -> None:
        with Client("predict.py:Predictor") as client:
            assert client.predict(text="world") == "hello world"

The clients drive the same ``Runtime`` the HTTP server does, without a
socket: inputs are validated against the schema, setup runs once, file
outputs are ``pathlib.Path`` objects. With cogrt installed, pytest loads
:mod:`cogrt.testing.plugin`, whose ``cog_client`` fixture sets the model up
once per session (``docs/testing.md``).
"""

from __future__ import annotations

from cogrt.errors import PredictionFailedError, SetupFailedError
from cogrt.testing.client import AsyncClient, Result, Running
from cogrt.testing.sync_client import Client, SyncRunning

__all__ = [
    "AsyncClient",
    "Client",
    "PredictionFailedError",
    "Result",
    "Running",
    "SetupFailedError",
    "SyncRunning",
]
