"""When ``python -m cogrt`` supervises."""

from __future__ import annotations

import pytest

from cogrt.supervisor.entry import supervision_wanted


@pytest.mark.parametrize(
    ("argv", "environ", "wanted"),
    [
        ([], {}, True),
        (["serve", "p.py:P", "--port", "0"], {"COGRT_SUPERVISE": "1"}, True),
        (["--no-supervise"], {}, False),
        (["p.py:P", "--no-sup"], {}, False),
        (["--", "--no-supervise"], {}, True),
        ([], {"COGRT_SUPERVISE": "0"}, False),
        ([], {"COGRT_SUPERVISE": "false"}, False),
        (["predict", "-i", "x=1"], {}, False),
        (["schema"], {}, False),
        (["train", "-i", "x=1"], {}, False),
        (["worker"], {}, False),
        (["--help"], {}, False),
        (["serve", "--help"], {}, False),
        (["p.py:P", "--version"], {}, False),
        (["worker", "--stream", "s"], {}, False),  # a queue worker runs unsupervised
    ],
)
def test_when_to_supervise(argv: list[str], environ: dict[str, str], wanted: bool) -> None:
    assert supervision_wanted(argv, environ) is wanted
