"""Who may read or change a booking or a hold: one rule for every use case.

- A caller authenticated (session or JWT) as the owner may.
- A booking or hold made with a session or JWT belongs to that principal: nothing else will do.
- One made without (open mode, a bare `userId`) can only be proven by its secret, returned to its
  creator alone: the hold token, or the booking's manage token. A caller that names a different
  user is still refused.

Everyone else is told "not found", exactly as for an id that does not exist, so a booking id or a
hold token reveals neither existence nor owner.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from boxoffice.domain import SESSION_PREFIX, Booking, Caller
from boxoffice.tokens import Tokens


class Ownership:
    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens
        self._jwt = tokens.mode == "jwt"

    def owned_by_principal(self, owner: str) -> bool:
        """Made by a verified session or token user (in jwt mode every user is one)."""
        return self._jwt or owner.startswith(SESSION_PREFIX)

    def may(self, caller: Caller, owner: str, *, secret_ok: bool) -> bool:
        if caller.authenticated:
            return caller.user_id == owner
        return secret_ok and not self.owned_by_principal(owner) and caller.user_id in (None, owner)

    def may_booking(
        self, caller: Caller, owner: str, booking_id: int, created_at: datetime, manage_token: str | None
    ) -> bool:
        if caller.authenticated:
            return caller.user_id == owner
        valid = self._tokens.manage_token_valid(manage_token, booking_id, created_at)
        return self.may(caller, owner, secret_ok=valid)

    def issue(self, caller: Caller, booking: Booking) -> Booking:
        """A booking made without a session or token gets the manage token its creator needs later."""
        if caller.authenticated or booking.seat.booked_at is None:
            return booking
        token = self._tokens.manage_token(booking.booking_id, booking.seat.booked_at)
        return dataclasses.replace(booking, manage_token=token)
