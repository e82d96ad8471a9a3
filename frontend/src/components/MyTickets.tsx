/** The buyer's confirmed bookings (`GET /api/v1/me/bookings`), each with a two-step cancel. */
import { useState } from "react";
import { seatPlace } from "../basket";
import type { SeatStore } from "../seatStore";
import type { Buyer } from "../useBuyer";

export function MyTickets({ buyer, store, canWrite }: { buyer: Buyer; store: SeatStore; canWrite: boolean }) {
  const [asking, setAsking] = useState<number | null>(null);
  return (
    <section aria-labelledby="tickets-title" data-testid="my-tickets" className="panel">
      <div className="mb-2 flex items-baseline justify-between">
        <h2 id="tickets-title" className="panel-title">
          My tickets
        </h2>
        <button type="button" className="text-xs text-sky-300 underline-offset-2 hover:underline" onClick={() => void buyer.refreshBookings()}>
          Refresh
        </button>
      </div>
      {buyer.bookings.length === 0 ? (
        <p className="text-sm text-slate-300">No tickets yet.</p>
      ) : (
        <ul className="divide-y divide-white/5">
          {buyer.bookings.map((b) => {
            const seat = store.seats.get(b.seatId);
            const label = seat ? seatPlace(seat) : `Seat #${b.seatId} (another event)`;
            const busy = buyer.cancelling.has(b.bookingId);
            return (
              <li key={b.bookingId} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-testid="ticket" data-seat-id={b.seatId} data-booking-id={b.bookingId}>
                <span className="min-w-0">
                  <span className="block font-medium text-slate-100">{label}</span>
                  <span className="block text-xs text-slate-300">
                    Booking {b.bookingId}
                    {seat?.category ? ` · ${seat.category}` : ""}
                  </span>
                </span>
                {asking === b.bookingId ? (
                  <span className="flex gap-1.5">
                    <button
                      type="button"
                      data-testid="cancel-confirm"
                      className="btn-danger"
                      disabled={busy || !canWrite}
                      onClick={() => {
                        void buyer.cancel(b.bookingId);
                        setAsking(null);
                      }}
                    >
                      Yes, cancel
                    </button>
                    <button type="button" className="btn-secondary" onClick={() => setAsking(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button type="button" data-testid="cancel-ticket" className="btn-secondary" disabled={busy || !canWrite} onClick={() => setAsking(b.bookingId)}>
                    {busy ? "Cancelling…" : "Cancel"}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
