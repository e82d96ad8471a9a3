/** The basket: the picked seats with place, category and price, the total, and the checkout buttons. */
import { useId } from "react";
import { MAX_PER_ORDER, basketLines, basketTotal, formatCountdown, formatMoney } from "../basket";
import type { SeatStore } from "../seatStore";
import type { Buyer } from "../useBuyer";

interface Props {
  buyer: Buyer;
  store: SeatStore;
  canWrite: boolean;
  sessionReady: boolean;
  /** Compact footer on phones. */
  compact?: boolean;
  /** Why writing is off, when it is not the server (the waiting room). */
  pausedWhy?: string;
}

const MSG_STYLE = {
  info: "border-sky-400/40 bg-sky-400/10 text-sky-100",
  success: "border-emerald-400/40 bg-emerald-400/10 text-emerald-100",
  error: "border-rose-400/50 bg-rose-500/10 text-rose-100",
} as const;

export function Basket({ buyer, store, canWrite, sessionReady, compact = false, pausedWhy }: Props) {
  const titleId = useId();
  const lines = basketLines(buyer.basket, { get: (id: number) => store.seats.get(id) ?? buyer.holdSeats.get(id) });
  const total = basketTotal(lines);
  const held = buyer.phase === "held" || buyer.phase === "confirming";
  const busy = buyer.phase === "holding" || buyer.phase === "confirming";
  const disabledWhy = !canWrite ? (pausedWhy ?? "Booking is paused until the server is back.") : !sessionReady ? "Getting a session…" : null;
  const urgent = buyer.secondsLeft !== null && buyer.secondsLeft <= 60;

  return (
    <section aria-labelledby={titleId} data-testid="basket" data-phase={buyer.phase} className={compact ? "" : "panel"}>
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <h2 id={titleId} className="panel-title">
          Your basket
        </h2>
        <p className="text-xs text-slate-300" data-testid="basket-count">
          {lines.length} of {MAX_PER_ORDER} seats max
        </p>
      </div>
      {lines.length === 0 ? (
        <p className="text-sm text-slate-300">Pick seats on the map (click, tap, or Enter). Nothing is booked until you confirm.</p>
      ) : (
        <ul className={`divide-y divide-white/5 ${compact ? "max-h-28 overflow-y-auto" : ""}`} data-testid="basket-lines">
          {lines.map((l) => (
            <li key={l.seatId} className="flex items-center justify-between gap-2 py-1.5 text-sm" data-testid="basket-line" data-seat-id={l.seatId}>
              <span className="min-w-0">
                <span className="block truncate font-medium text-slate-100">{l.label}</span>
                <span className="block text-xs text-slate-300">{l.category ?? "General"}</span>
              </span>
              <span className="flex shrink-0 items-center gap-2">
                <span className="tabular-nums text-slate-100">{formatMoney(l.priceCents)}</span>
                {!held && (
                  <button
                    type="button"
                    className="grid size-7 place-items-center rounded-md text-slate-300 hover:bg-white/10 hover:text-white"
                    aria-label={`Remove ${l.label} from the basket`}
                    onClick={() => buyer.remove(l.seatId)}
                  >
                    ✕
                  </button>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      <div className="mt-2 flex items-baseline justify-between border-t border-white/10 pt-2">
        <span className="text-sm text-slate-300">Total</span>
        <span className="text-lg font-bold tabular-nums text-white" data-testid="basket-total">
          {formatMoney(total.cents)}
          {total.unpriced > 0 && <span className="ml-1 text-xs font-normal text-slate-300">+ {total.unpriced} unpriced</span>}
        </span>
      </div>

      {held && buyer.hold && (
        <p
          data-testid="hold-countdown"
          data-seconds={buyer.secondsLeft ?? 0}
          className={`mt-2 rounded-lg px-3 py-2 text-sm font-semibold ${urgent ? "bg-amber-400/15 text-amber-100" : "bg-violet-400/15 text-violet-100"}`}
          role="timer"
          aria-live="off"
        >
          Held for you: <span className="tabular-nums">{formatCountdown(buyer.secondsLeft ?? 0)}</span> left
        </p>
      )}

      {buyer.message && (
        <div
          data-testid="basket-message"
          data-kind={buyer.message.kind}
          role={buyer.message.kind === "error" ? "alert" : "status"}
          className={`mt-2 rounded-lg border px-3 py-2 text-sm ${MSG_STYLE[buyer.message.kind]}`}
        >
          {buyer.message.text}
          {buyer.message.retry && (
            <button type="button" className="btn-secondary ml-2 mt-1" onClick={() => buyer.retry(buyer.message?.retry)} disabled={!canWrite}>
              Retry
            </button>
          )}
        </div>
      )}

      {disabledWhy && lines.length > 0 && <p className="mt-2 text-xs text-amber-200">{disabledWhy}</p>}

      <div className="mt-3 flex flex-wrap gap-2">
        {!held ? (
          <>
            <button
              type="button"
              data-testid="hold-button"
              className="btn-primary flex-1"
              disabled={lines.length === 0 || busy || disabledWhy !== null}
              onClick={() => void buyer.placeHold()}
            >
              {buyer.phase === "holding" ? "Holding…" : `Hold ${lines.length || ""} seat${lines.length === 1 ? "" : "s"}`}
            </button>
            {lines.length > 0 && (
              <button type="button" className="btn-secondary" onClick={buyer.clear} disabled={busy}>
                Clear
              </button>
            )}
          </>
        ) : (
          <>
            <button
              type="button"
              data-testid="confirm-button"
              className="btn-primary flex-1"
              disabled={busy || disabledWhy !== null}
              onClick={() => void buyer.confirm()}
            >
              {buyer.phase === "confirming" ? "Confirming…" : `Confirm ${formatMoney(total.cents)}`}
            </button>
            <button type="button" data-testid="extend-button" className="btn-secondary" disabled={busy || disabledWhy !== null} onClick={() => void buyer.extend()}>
              Extend
            </button>
            <button type="button" data-testid="release-button" className="btn-secondary" disabled={busy || disabledWhy !== null} onClick={() => void buyer.release()}>
              Release
            </button>
          </>
        )}
      </div>
    </section>
  );
}
