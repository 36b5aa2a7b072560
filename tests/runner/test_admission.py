"""Slots and the admission queue (``cogrt.runner.admission``) on a real event loop."""

from __future__ import annotations

import asyncio

import pytest

from cogrt.config import Settings
from cogrt.errors import AtCapacityError
from cogrt.runner.admission import Admission
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime


def occupy(admission: Admission, name: str) -> Prediction:
    prediction = Prediction(name, {}, loop=asyncio.get_running_loop())
    admission.check(None)
    admission.admit(prediction, None)
    return prediction


async def test_a_freed_slot_goes_to_the_head_of_the_queue_not_to_a_newcomer() -> None:
    admission = Admission(queue=2)
    running = occupy(admission, "running")
    first, second = admission.join(), admission.join()
    assert admission.queue_length == 2
    with pytest.raises(AtCapacityError):
        admission.join()  # the queue is full
    admission.release(running)
    assert admission.queue_length == 1  # handed over in the step that freed it
    with pytest.raises(AtCapacityError):
        admission.check(None)  # a request arriving now cannot take it
    ticket = await first.wait()
    assert ticket is not None
    started = Prediction("first", {}, loop=asyncio.get_running_loop())
    admission.check(ticket)
    admission.admit(started, ticket)
    assert started.queue_wait == ticket.waited  # for the metrics: seconds spent queued
    second_wait = asyncio.ensure_future(second.wait())
    await asyncio.sleep(0)
    assert not second_wait.done()  # still queued behind "first"
    admission.release(started)
    assert await second_wait is not None


async def test_a_waiter_that_leaves_after_its_slot_was_reserved_passes_it_on() -> None:
    admission = Admission(queue=2)
    running = occupy(admission, "running")
    first, second = admission.join(), admission.join()
    admission.release(running)  # reserved for "first"
    first.leave()  # its client went away before it could start
    assert await first.wait() is None
    ticket = await second.wait()
    assert ticket is not None
    admission.check(ticket)
    assert admission.reserved == 1
    ticket.release()  # nothing started: the slot is free again
    assert admission.reserved == 0
    assert not admission.full


async def test_cancelling_a_waiting_task_leaves_the_queue() -> None:
    admission = Admission(queue=2)
    running = occupy(admission, "running")
    place = admission.join()
    waiting = asyncio.ensure_future(place.wait())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert admission.queue_length == 0
    admission.release(running)
    assert not admission.full and admission.reserved == 0


async def test_a_wait_past_the_timeout_is_refused_and_leaves_the_queue() -> None:
    admission = Admission(queue=1, queue_timeout=0.01)
    occupy(admission, "running")
    place = admission.join()
    with pytest.raises(AtCapacityError):
        await place.wait()
    assert admission.queue_length == 0


async def test_expire_all_refuses_every_waiter() -> None:
    admission = Admission(queue=3)
    occupy(admission, "running")
    places = [admission.join() for _ in range(3)]
    admission.expire_all()
    assert admission.queue_length == 0
    for place in places:
        with pytest.raises(AtCapacityError):
            await place.wait()


async def test_refuses_only_when_the_slots_and_the_queue_are_full() -> None:
    admission = Admission(queue=1)
    assert not admission.refuses
    occupy(admission, "running")
    assert admission.full and not admission.refuses
    admission.join()
    assert admission.refuses
    assert admission.queue_report() == {"length": 1, "max": 1}
    assert Admission().queue_report() is None


@pytest.mark.parametrize(
    ("environ", "queue", "timeout"),
    [
        ({}, 0, 30.0),
        ({"COGRT_QUEUE": "0"}, 0, 30.0),
        ({"COGRT_QUEUE": "16", "COGRT_QUEUE_TIMEOUT": "2.5"}, 16, 2.5),
        ({"COGRT_QUEUE": "lots", "COGRT_QUEUE_TIMEOUT": "-1"}, 0, 30.0),
        ({"COGRT_QUEUE": "4", "COGRT_QUEUE_TIMEOUT": "inf"}, 4, 30.0),
    ],
)
def test_queue_settings_from_the_environment(
    environ: dict[str, str], queue: int, timeout: float
) -> None:
    settings = Settings.from_environ(environ)
    assert (settings.queue, settings.queue_timeout) == (queue, timeout)


async def test_runtime_arguments_beat_the_environment() -> None:
    settings = Settings.from_environ({"COGRT_QUEUE": "16", "COGRT_QUEUE_TIMEOUT": "2.5"})
    from_env = Runtime("predict.py:Predictor", settings=settings)
    assert (from_env.admission.queue_max, from_env.admission.queue_timeout) == (16, 2.5)
    given = Runtime("predict.py:Predictor", settings=settings, queue=3, queue_timeout=9.0)
    assert (given.admission.queue_max, given.admission.queue_timeout) == (3, 9.0)
    assert given.queue_length == 0
