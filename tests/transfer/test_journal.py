"""The crash journal: what a dead runtime leaves, and what the next one sends."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import msgspec
import pytest

from cogrt.runner.prediction import Prediction
from cogrt.transfer import journal as journal_module
from cogrt.transfer.journal import Journal
from cogrt.transfer.webhooks import WebhookSender
from tests.support.webhook_receiver import Receiver

HEADERS = {"authorization": "Bearer secret-token", "traceparent": "00-abc-def-01"}


def prediction(pid: str, text: str = "x") -> Prediction:
    return Prediction(pid, {"text": text}, loop=asyncio.get_running_loop())


def started(pid: str) -> Prediction:
    record = prediction(pid)
    record.mark_started()
    return record


async def test_a_dead_runtimes_open_predictions_become_failed_payloads(tmp_path: Path) -> None:
    dead = Journal(str(tmp_path), 1, {})
    running, waiting, finished = started("p1"), prediction("p2"), started("p3")
    for record in (running, waiting, finished):
        dead.opened(record, "http://hook/1", HEADERS)
    dead.processing(running)
    dead.processing(finished)
    dead.closed("p3")
    assert b"secret-token" not in (tmp_path / "runtime-1.jsonl").read_bytes()

    orphans = Journal(str(tmp_path), 2, {1: "killed by SIGSEGV"}).orphans()
    payloads = {orphan.id: msgspec.json.decode(orphan.payload()) for orphan in orphans}
    assert sorted(payloads) == ["p1", "p2"]
    assert orphans[0].trace_headers == {"traceparent": "00-abc-def-01"}
    first = payloads["p1"]
    assert list(first) == list(running.snapshot())  # the shape of every other payload
    assert (first["status"], first["input"], first["output"]) == ("failed", {"text": "x"}, None)
    assert "killed by SIGSEGV" in first["error"]
    assert (first["created_at"], first["started_at"]) == (running.created_at, running.started_at)
    assert first["completed_at"] is not None
    assert payloads["p2"]["started_at"] is None


async def test_delivered_orphans_remove_the_dead_journal_and_only_it(tmp_path: Path) -> None:
    dead = Journal(str(tmp_path), 1, {})
    dead.opened(prediction("a"), "http://hook", {})
    dead.opened(prediction("b"), "http://hook", {})
    successor = Journal(str(tmp_path), 2, {1: "exit 1"})
    successor.opened(prediction("c"), "http://hook", {})
    first, second = successor.orphans()
    successor.delivered(first)
    assert (tmp_path / "runtime-1.jsonl").exists()
    successor.delivered(second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runtime-2.jsonl"]


async def test_compaction_keeps_the_journal_small_and_the_open_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_BYTES", 4096)
    current = Journal(str(tmp_path), 1, {})
    kept = started("kept")
    current.opened(kept, "http://hook", {})
    current.processing(kept)
    for n in range(500):
        record = started(f"p{n}")
        current.opened(record, "http://hook", {})
        current.processing(record)
        current.closed(record.id)
    assert (tmp_path / "runtime-1.jsonl").stat().st_size < 2 * 4096
    [orphan] = Journal(str(tmp_path), 2, {}).orphans()
    assert orphan.id == "kept" and orphan.started_at == kept.started_at
    current.closed("kept")  # nothing open: the journal is emptied, not rewritten
    for n in range(100):
        record = prediction(f"q{n}")
        current.opened(record, "http://hook", {})
        current.closed(record.id)
    assert Journal(str(tmp_path), 3, {}).orphans() == []


async def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    dead = Journal(str(tmp_path), 1, {})
    dead.opened(prediction("whole"), "http://hook", {})
    with (tmp_path / "runtime-1.jsonl").open("ab") as file:
        file.write(b'{"op":"opened","id":"torn","url":"http://ho')
    assert [o.id for o in Journal(str(tmp_path), 2, {}).orphans()] == ["whole"]


async def test_a_large_input_is_not_journaled(tmp_path: Path) -> None:
    dead = Journal(str(tmp_path), 1, {})
    dead.opened(prediction("big", "x" * (journal_module.MAX_INPUT_BYTES + 1)), "http://h", {})
    assert (tmp_path / "runtime-1.jsonl").stat().st_size < 1024
    [orphan] = Journal(str(tmp_path), 2, {}).orphans()
    assert msgspec.json.decode(orphan.payload())["input"] is None


async def test_a_journal_that_cannot_be_written_is_disabled_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_BYTES", 1)
    (tmp_path / "file").write_text("")
    broken = Journal(str(tmp_path / "file" / "journal"), 1, {})
    with caplog.at_level(logging.WARNING, logger="cogrt.transfer.journal"):
        broken.opened(prediction("p"), "http://hook", {})
        broken.opened(prediction("q"), "http://hook", {})
        broken.closed("p")
    assert len(caplog.records) == 1 and "disabled" in caplog.text


async def test_the_webhook_sender_resumes_a_dead_journal(tmp_path: Path) -> None:
    dead = Journal(str(tmp_path), 1, {})
    async with Receiver(statuses=[503]) as receiver:
        dead.opened(started("lost"), receiver.url, {"traceparent": "00-t-p-01"})
        sender = WebhookSender(
            user_agent="cogrt/test", journal=Journal(str(tmp_path), 2, {1: "exit 1"})
        )
        sender.resume_journal()
        await receiver.wait_for(lambda hooks: len(hooks) == 2)  # a 503, then a retry
        await sender.aclose(5)
    retried = receiver.hooks[-1]
    assert retried.payload["id"] == "lost" and "exit 1" in retried.payload["error"]
    assert retried.headers["traceparent"] == "00-t-p-01"
    assert retried.headers["user-agent"] == "cogrt/test"
    assert list(tmp_path.iterdir()) == []
