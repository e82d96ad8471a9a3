"""The waiting room: per-event gating of holds and bookings, the queue, and adaptive admission.

Its parts, each imported from its own module (this package imports none of them, so that building
one part loads only what that part needs):

- `admin`: `RoomAdmin`, configure, read and revoke; needs only the database (the CLI).
- `runtime`: `WaitingRoom`, a serving process's room, every part below over one cache.
- `gate`: the check on holds and bookings (an admission token per gated event).
- `queue`, `joins`, `memory`: join, poll and leave; joins written in batches; polls answered
  from memory while a visitor cannot have been admitted.
- `step`: the periodic tick and the admission step (health, AIMD pace, pickup, frontier).
- `purchases`: a purchase ends the buyer's admission (its slot goes to the next in line).
- `cache`, `rooms`: the rooms as a process last read them.
- `tokens`, `challenge`: admission tokens; the join's proof of work hook.
- `pacing`, `positions`: the pure arithmetic (AIMD, budget, health; positions, waits, polling).

All SQL is in `boxoffice.storage.waitroom`; the contract is docs/waiting-room.md.
"""
