"""The join's proof of work: solved per event and session, checked cheaply."""

from __future__ import annotations

import asyncio

from boxoffice.booking.waitroom.challenge import ProofOfWork, leading_zero_bits, solve


def test_proof_of_work() -> None:
    assert (
        leading_zero_bits(b"\x00\x00\x80") == 16 and leading_zero_bits(b"\x0f") == 4 and leading_zero_bits(b"\x00") == 8
    )
    pow8 = ProofOfWork(8)
    answer = solve(3, "session:a", 8)
    assert asyncio.run(pow8.verify(3, "session:a", None, answer))
    assert not asyncio.run(pow8.verify(3, "session:a", None, None))
    assert not asyncio.run(pow8.verify(3, "session:a", None, "x" * 65))
    # Bound to the event and the session: another visitor must solve their own (almost surely fails).
    others = [asyncio.run(pow8.verify(4, f"session:{i}", None, answer)) for i in range(20)]
    assert sum(others) <= 2
    assert pow8.describe(3) == "sha256:8"
