"""Readiness speaks for the whole instance: with two workers, one that is not ready (here: the
replacement of a killed worker, waiting for the migration lock) makes every answer 503, whichever
worker gives it (before: the other worker said UP)."""

from __future__ import annotations

import os
import signal

import httpx
import psycopg

from tests.faults.harness import workers
from tests.helpers import wait_for
from tests.support import MIGRATION_LOCK_KEY, ServerFactory

READINESS = "/actuator/health/readiness"


def readiness(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}{READINESS}", timeout=30)


def ready_workers(response: httpx.Response) -> int:
    count: int = response.json()["components"]["workers"]["details"]["ready"]
    return count


def test_readiness_waits_for_every_worker(server_factory: ServerFactory) -> None:
    url = server_factory.database()
    server = server_factory("--workers", "2", database_url=url, ready_path=READINESS)
    assert server.proc is not None
    supervisor = server.proc.pid
    wait_for(lambda: len(workers(supervisor)) == 2, what="two workers")
    # Both ready. One probe's answer is not the state: on a loaded machine CI saw 200 then 503 right
    # after start (each answer checks the database within `health_timeout_s`, 1 s); what is under
    # test is the 503 while a worker cannot become ready, so wait for UP here.
    wait_for(lambda: _up_with_both(server.base_url), what="readiness UP with both workers at start")
    with psycopg.connect(url, autocommit=True) as other_instance:
        # Another instance holds the migration lock: a new worker cannot become ready.
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        victim = workers(supervisor)[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in workers(supervisor) and len(workers(supervisor)) == 2, what="a replacement")
        answers = [readiness(server.base_url) for _ in range(30)]
        assert {a.status_code for a in answers} == {503}, [a.text for a in answers if a.status_code != 503][:2]
        assert {ready_workers(a) for a in answers if "workers" in a.json()["components"]} == {1}
        other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    wait_for(lambda: _up_with_both(server.base_url), what="readiness UP with both workers")


def _up_with_both(base_url: str) -> bool:
    answer = readiness(base_url)
    return answer.status_code == 200 and ready_workers(answer) == 2
