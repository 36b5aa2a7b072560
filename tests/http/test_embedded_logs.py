"""``cogrt.serve(Predictor)`` in a script with no logging set up says what it is doing."""

from __future__ import annotations

import signal
import sys

from tests.support.server_process import spawned

SCRIPT = """
import cogrt
from http_echo import Predictor
cogrt.serve(Predictor, host="127.0.0.1", port=0)
"""


def test_embedded_serve_logs_setup_and_shutdown() -> None:
    with spawned([sys.executable, "-c", SCRIPT]) as server:
        output = server.output()
        assert "setup started" in output
        assert "setup completed in " in output
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        server.wait_for_output("cogrt stopped")
        assert "SIGTERM received: shutting down gracefully" in server.output()
