"""Collector pauses are measured per generation, and a long one is logged."""

from __future__ import annotations

import gc
import logging

import pytest

from boxoffice.observability import gcpause


def _count(generation: str) -> float:
    for metric in gcpause.GC_PAUSE.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {"generation": generation}:
                return sample.value
    return 0.0


def test_every_collection_is_timed(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    gcpause.watch()
    gcpause.watch()
    assert gc.callbacks.count(gcpause._callback) == 1
    before = _count("2")
    monkeypatch.setattr(gcpause, "LONG_PAUSE_S", 0.0)  # every pause is "long": the log line shows
    with caplog.at_level(logging.WARNING, logger="boxoffice.observability.gcpause"):
        gc.collect()
    assert _count("2") == before + 1
    assert any("gc_pause generation=2" in r.getMessage() for r in caplog.records)
    gc.callbacks.remove(gcpause._callback)
