"""The pytest plugin (entry point ``cogrt``): ``pip install cogrt`` is enough to use it.

* ``cog_client``: a session-scoped :class:`cogrt.testing.Client` for the
  project's predictor, set up once per test session. The reference comes
  from the ``cog_predictor`` ini option (``file.py:Name``), else
  ``$COG_PREDICT_TYPE_STUB``, else ``cog.yaml``'s ``run:``/``predict:`` in
  pytest's root directory; a relative file is taken from that directory.
  ``cog.yaml``'s ``environment:`` is applied first, as ``python -m cogrt`` does.
* ``client_fixture(predictor)``, for a ``conftest.py`` that names the
  predictor itself (a reference or the class), or needs several.

Nothing heavier than this module loads until a test asks for a fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["client_fixture"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "cog_predictor",
        "predictor for the cog_client fixture, e.g. predict.py:Predictor"
        " (default: cog.yaml's run: or predict:)",
        default="",
    )


def client_fixture(predictor: Any, *, scope: str = "session", **runtime_options: Any) -> Any:
    """A fixture yielding a set-up ``Client`` for ``predictor``; assign it in ``conftest.py``::

    from cogrt.testing.plugin import client_fixture
    from predict import Predictor

    model = client_fixture(Predictor)   # tests then take a `model` argument
    """

    def fixture() -> Iterator[Any]:
        from cogrt.testing.sync_client import Client

        with Client(predictor, **runtime_options) as client:
            yield client

    return pytest.fixture(scope=scope)(fixture)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def cog_client(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The project's predictor, set up once for the whole test session."""
    from cogrt.config import apply_environment, load_cog_yaml
    from cogrt.testing.sync_client import Client

    root = Path(pytestconfig.rootpath)
    config = load_cog_yaml(root)
    apply_environment(config.environment)
    ref = (
        str(pytestconfig.getini("cog_predictor") or "")
        or os.environ.get("COG_PREDICT_TYPE_STUB")
        or config.predictor_ref
    )
    if not ref:
        raise pytest.UsageError(
            "cog_client needs a predictor: set cog_predictor = predict.py:Predictor in the"
            " pytest configuration, or run: in cog.yaml"
        )
    train = _from(root, config.train) if config.train else None
    with Client(_from(root, ref), workdir=root, train=train) as client:
        yield client


def _from(root: Path, ref: str) -> str:
    """``file.py:Name`` with a relative file taken from ``root``."""
    path, sep, name = ref.rpartition(":")
    if sep and path and not os.path.isabs(path):
        return f"{root / path}:{name}"
    return ref
