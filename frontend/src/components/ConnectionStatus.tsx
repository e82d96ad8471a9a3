/** Whether the map is live: the STOMP link state combined with the snapshot state. */
import type { LinkStatus } from "../live";
import type { SyncPhase } from "../seatStore";

export type ShownStatus = "live" | "syncing" | "connecting" | "reconnecting";

export function shownStatus(link: LinkStatus, phase: SyncPhase): ShownStatus {
  if (link !== "live") return link;
  return phase === "live" ? "live" : "syncing";
}

const TEXT: Record<ShownStatus, string> = {
  live: "Live",
  syncing: "Syncing…",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
};

const DOT: Record<ShownStatus, string> = {
  live: "bg-emerald-400 shadow-[0_0_8px_2px] shadow-emerald-400/60",
  syncing: "bg-sky-400 animate-pulse",
  connecting: "bg-amber-400 animate-pulse",
  reconnecting: "bg-amber-400 animate-pulse",
};

export function ConnectionStatus({
  link,
  phase,
  detail,
  resyncs,
}: {
  link: LinkStatus;
  phase: SyncPhase;
  detail?: string | null;
  /** Snapshots taken so far (exposed for diagnostics and end-to-end checks). */
  resyncs?: number;
}) {
  const status = shownStatus(link, phase);
  const hint = status === "live" ? "Seat changes arrive live" : `Live updates paused${detail ? ` (${detail})` : ""}; the map refreshes itself`;
  return (
    <div
      role="status"
      data-testid="link-status"
      data-status={status}
      data-resyncs={resyncs}
      title={hint}
      className="inline-flex items-center gap-2 rounded-full border border-white/10 bg-white/5 px-3 py-1 text-sm font-medium text-slate-200"
    >
      <span aria-hidden="true" className="relative flex size-2.5">
        <span className={`relative inline-flex size-2.5 rounded-full ${DOT[status]}`} />
      </span>
      <span>{TEXT[status]}</span>
      <span className="sr-only">{hint}</span>
    </div>
  );
}
