"""The gate on holds and bookings: a gated event's seats need a valid admission token."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.booking.waitroom.purchases import Purchases
from boxoffice.booking.waitroom.tokens import Admission, AdmissionTokens
from boxoffice.domain import AdmissionRefused, AdmissionRequired, Caller
from boxoffice.observability import metrics


class Gate:
    def __init__(self, cache: RoomCache, tokens: Callable[[], AdmissionTokens], purchases: Purchases) -> None:
        self._cache = cache
        self._tokens = tokens
        self._purchases = purchases

    async def check(
        self, caller: Caller, seat_ids: Sequence[int], token: str | None, event_id: int | None = None
    ) -> Admission | None:
        """Raise unless the caller may write these seats (or take seats or GA tickets of `event_id` by
        quantity): an admission token for each gated event among them."""
        if not self._cache.loaded:
            # Which events are gated is unknown until the first read: fail closed with the store's own
            # answer (503 DATABASE_UNAVAILABLE or DATABASE_BUSY: nothing was changed).
            await self._cache.refresh()
        if not self._cache.gated:
            return None
        events = self._cache.events_of(seat_ids)
        if event_id is not None and event_id in self._cache.gated:
            events.add(event_id)
        if not events:
            return None
        admission: Admission | None = None
        for gated in sorted(events):
            admission = self._admit(caller, gated, token)
        return admission

    def _admit(self, caller: Caller, event_id: int, token: str | None) -> Admission:
        if token is None:
            metrics.WAITROOM_TOKENS_REJECTED.labels("missing").inc()
            raise AdmissionRequired(event_id)
        try:
            admission = self._tokens().verify(token, caller.user_id if caller.authenticated else None, event_id)
            room = self._cache.rooms.get(event_id)
            if room is not None and room.revoked_before is not None and admission.admitted_at <= room.revoked_before:
                raise AdmissionRefused("revoked", "The admission was revoked by an operator")
            ended = self._cache.ended_at(admission.visitor_id)
            if (ended is not None and admission.admitted_at <= ended + 1e-6) or self._purchases.ending(
                event_id, admission.user_id
            ):
                raise AdmissionRefused(
                    "revoked",
                    "The admission has ended: revoked, its visitor left the room, or a purchase used it"
                    " (join the waiting room again to buy more)",
                )
        except AdmissionRefused as exc:
            metrics.WAITROOM_TOKENS_REJECTED.labels(exc.reason).inc()
            raise
        return admission
