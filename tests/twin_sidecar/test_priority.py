"""Requests first: background work waits (releasing the GIL) while a request is in flight, and goes
on when none is, or after its bounded wait; the app wires ingestion and training to the gate."""

from __future__ import annotations

import threading

from twin_harness import twin_settings

from twin_sidecar.app import build_parts
from twin_sidecar.priority import RequestGate


def test_background_work_waits_for_requests_in_flight() -> None:
    gate = RequestGate(max_wait_s=30.0)
    gate.yield_to_requests()  # nothing in flight: returns at once
    gate.enter()
    gate.enter()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (gate.yield_to_requests(), done.set()), daemon=True)
    worker.start()
    worker.join(0.3)
    assert not done.is_set() and gate.inflight == 2  # still waiting: two requests in flight
    gate.leave()
    worker.join(0.3)
    assert not done.is_set()  # one is still in flight
    gate.leave()
    worker.join(10)
    assert done.is_set() and gate.inflight == 0
    gate.leave()  # an unmatched leave never goes below zero
    assert gate.inflight == 0


def test_the_wait_is_bounded() -> None:
    gate = RequestGate(max_wait_s=0.01)
    gate.enter()
    worker = threading.Thread(target=gate.yield_to_requests, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive()  # a stuck request never stops ingestion for good


def test_ingestion_and_training_are_wired_to_the_gate(redis_url, tmp_path) -> None:
    parts = build_parts(twin_settings(redis_url, tmp_path), train=False)
    assert parts.consumer.pause == parts.gate.yield_to_requests
    assert parts.sync.pause == parts.gate.yield_to_requests
