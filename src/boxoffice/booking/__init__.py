"""Booking domain: seats, bookings and the locking strategies. Knows nothing of HTTP."""
