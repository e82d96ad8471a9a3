"""The join's abuse hook: a challenge a visitor solves before taking a place (proof of work here)."""

from __future__ import annotations

import hashlib
from typing import Protocol


class Challenge(Protocol):
    """The join hook: proof of work here, or an operator's own (a CAPTCHA verifier, a bot score).

    `describe` tells clients what to solve (shown in the room's public state); `verify` gets the
    body's `challenge` (None when absent) and returns whether the visitor may join. It runs before
    anything is written and must be quick; raising is treated as a refusal.
    """

    def describe(self, event_id: int) -> str: ...

    async def verify(self, event_id: int, user_id: str, client: str | None, answer: str | None) -> bool: ...


class ProofOfWork:
    """Hashcash: `sha256("{eventId}:{userId}:{answer}")` must start with `bits` zero bits.

    Bound to the event and the session, so a solution cannot be shared or sold to another visitor;
    re-using one is harmless (a re-join keeps the same place).
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits

    def describe(self, event_id: int) -> str:
        return f"sha256:{self.bits}"

    async def verify(self, event_id: int, user_id: str, client: str | None, answer: str | None) -> bool:
        if answer is None or len(answer) > 64:
            return False
        return leading_zero_bits(hashlib.sha256(f"{event_id}:{user_id}:{answer}".encode()).digest()) >= self.bits


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(event_id: int, user_id: str, bits: int) -> str:
    """A proof-of-work answer (clients and tests): about 2^bits hashes."""
    n = 0
    while True:
        answer = str(n)
        if leading_zero_bits(hashlib.sha256(f"{event_id}:{user_id}:{answer}".encode()).digest()) >= bits:
            return answer
        n += 1
