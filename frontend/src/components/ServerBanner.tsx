/** What is going on when the server cannot serve: said plainly, with when it is retried and a button to retry now. */
import type { Health } from "../useServerHealth";

export function ServerBanner({ health, onRetry }: { health: Health; onRetry: () => void }) {
  if (health.state === "ok") return null;
  return (
    <div
      role="alert"
      data-testid="server-banner"
      data-state={health.state}
      className="mx-auto mb-3 flex max-w-[1400px] flex-wrap items-center justify-between gap-3 rounded-xl border border-amber-400/40 bg-amber-400/10 px-4 py-3 text-sm text-amber-100"
    >
      <p>
        <strong className="font-semibold">{health.state === "down" ? "Offline." : "Temporarily unavailable."}</strong>{" "}
        {health.message} Booking is paused; the map stays as last seen and we check again every second.
      </p>
      <button type="button" data-testid="retry-now" className="btn-secondary" onClick={onRetry}>
        Retry now
      </button>
    </div>
  );
}
