"""The destinations clients may subscribe to: one topic per event's seats."""

from __future__ import annotations

from boxoffice.domain import DEFAULT_EVENT_ID

SEATS_TOPIC = "/topic/seats"
"""The default event's seats (kept for clients from before events existed)."""
EVENT_TOPIC_PREFIX = "/topic/events/"
EVENT_TOPIC_SUFFIX = "/seats"
DESTINATIONS_HELP = f"{SEATS_TOPIC} and {EVENT_TOPIC_PREFIX}{{eventId}}{EVENT_TOPIC_SUFFIX}"
_INT4_MAX = 2**31 - 1


def topic_event_id(destination: str) -> int | None:
    """The event a destination carries, or None if it is not one of ours.

    Only the canonical spelling of a positive int4 is accepted, so one event has one topic name.
    """
    if destination == SEATS_TOPIC:
        return DEFAULT_EVENT_ID
    if not (destination.startswith(EVENT_TOPIC_PREFIX) and destination.endswith(EVENT_TOPIC_SUFFIX)):
        return None
    digits = destination[len(EVENT_TOPIC_PREFIX) : -len(EVENT_TOPIC_SUFFIX)]
    if not (0 < len(digits) <= 10 and digits.isascii() and digits.isdigit() and digits[0] != "0"):
        return None
    event_id = int(digits)
    return event_id if event_id <= _INT4_MAX else None
