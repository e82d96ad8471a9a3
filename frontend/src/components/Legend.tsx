/** Counts per state, doubling as the legend: each swatch is a real seat look (color + pattern + icon). */
import type { SeatCounts } from "../seatStore";
import { LOOKS, statusWord, type SeatKind } from "../seatLook";

function Swatch({ kind }: { kind: SeatKind }) {
  return (
    <span aria-hidden="true" className={`seat seat-${kind} seat-swatch`}>
      {LOOKS[kind].icon}
    </span>
  );
}

interface Entry {
  kind: SeatKind;
  label: string;
  count: number | null;
  testId: string;
}

export function Legend({ counts, mine }: { counts: SeatCounts; mine: number }) {
  const entries: Entry[] = [
    { kind: "available", label: LOOKS.available.label, count: counts.available, testId: "count-available" },
    { kind: "booked", label: LOOKS.booked.label, count: counts.booked - mine, testId: "count-booked-others" },
    { kind: "mine", label: LOOKS.mine.label, count: mine, testId: "count-mine" },
  ];
  const held = counts.other.HELD;
  entries.push({ kind: "held", label: LOOKS.held.label, count: held ?? 0, testId: "count-held" });
  for (const [status, count] of Object.entries(counts.other)) {
    if (status !== "HELD") entries.push({ kind: "other", label: statusWord(status), count, testId: `count-${status}` });
  }
  return (
    <div>
      <div className="mb-3 flex items-baseline justify-between gap-3">
        <h2 className="panel-title">Seats</h2>
        <p className="text-sm text-slate-400">
          <span data-testid="count-total" className="font-semibold text-slate-200 tabular-nums">
            {counts.total.toLocaleString()}
          </span>{" "}
          total · <span data-testid="count-booked" className="font-semibold text-slate-200 tabular-nums">{counts.booked.toLocaleString()}</span> booked
        </p>
      </div>
      <ul aria-label="Legend and counts" className="grid grid-cols-2 gap-2">
        {entries.map((e) => (
          <li key={e.testId} className="flex items-center gap-2.5 rounded-lg bg-white/[0.03] px-2.5 py-2 ring-1 ring-white/5">
            <Swatch kind={e.kind} />
            <span className="min-w-0 leading-tight">
              <span data-testid={e.testId} className="block text-base font-semibold tabular-nums text-slate-100">
                {e.count?.toLocaleString()}
              </span>
              <span className="block truncate text-xs text-slate-400">{e.label}</span>
            </span>
          </li>
        ))}
      </ul>
      <div
        className="mt-3 h-2 overflow-hidden rounded-full bg-emerald-500/25"
        role="img"
        aria-label={`${counts.booked} of ${counts.total} seats booked`}
      >
        <div
          className="h-full rounded-full bg-rose-500 transition-[width] duration-500"
          style={{ width: `${counts.total ? (100 * counts.booked) / counts.total : 0}%` }}
        />
      </div>
    </div>
  );
}
