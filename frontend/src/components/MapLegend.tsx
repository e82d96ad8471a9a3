/**
 * The legend: one button per price category (colour, name, price; pressing it highlights that category
 * on the map), and the seat states with the same marks the map draws.
 */
import { formatMoney } from "../basket";
import { LOOKS, type SeatKind } from "../seatLook";
import type { SeatCounts } from "../seatStore";

export interface CategoryInfo {
  name: string;
  priceCents: number | null;
  color: string;
}

const KIND_ORDER: SeatKind[] = ["selected", "myhold", "mine", "booked", "held"];

function AccessMark({ which }: { which: string }) {
  return (
    <svg viewBox="0 0 20 20" className="size-5 shrink-0" aria-hidden="true">
      <rect x="0.5" y="0.5" width="19" height="19" rx="5" fill={LOOKS.available.fill} />
      {which === "WHEELCHAIR" ? (
        <g stroke="#022c22" strokeWidth="1.6" fill="none" strokeLinecap="round">
          <circle cx="9.5" cy="12.5" r="4.2" />
          <path d="M8 6v5h5.5l1.5 5" />
          <circle cx="8" cy="3.6" r="1.4" fill="#022c22" stroke="none" />
        </g>
      ) : (
        <text x="10" y="14.5" fontSize="12" fontWeight="700" textAnchor="middle" fill="#022c22">
          C
        </text>
      )}
    </svg>
  );
}

function Mark({ kind }: { kind: SeatKind }) {
  const look = LOOKS[kind];
  const c = look.markColor;
  const paths: Record<string, React.ReactNode> = {
    check: <path d="M5 10.5l3.5 3.5L15 6.5" stroke={c} strokeWidth="2.4" fill="none" strokeLinecap="round" strokeLinejoin="round" />,
    clock: (
      <g stroke={c} strokeWidth="1.8" fill="none" strokeLinecap="round">
        <circle cx="10" cy="10" r="6" />
        <path d="M10 6.5V10l3 2" />
      </g>
    ),
    star: <path d="M10 2.5l2.2 4.6 5 .7-3.6 3.5.9 5L10 13.9 5.5 16.3l.9-5-3.6-3.5 5-.7z" fill={c} />,
    cross: <path d="M5.5 5.5l9 9M14.5 5.5l-9 9" stroke={c} strokeWidth="2.4" strokeLinecap="round" />,
    dots: (
      <g fill={c}>
        {[
          [6, 6],
          [14, 6],
          [10, 10],
          [6, 14],
          [14, 14],
        ].map(([x, y]) => (
          <circle key={`${x}-${y}`} cx={x} cy={y} r="1.6" />
        ))}
      </g>
    ),
    none: null,
    bar: <path d="M4.5 10h11" stroke={c} strokeWidth="3" strokeLinecap="round" />,
    question: (
      <text x="10" y="14.5" fontSize="13" fontWeight="700" textAnchor="middle" fill={c}>
        ?
      </text>
    ),
  };
  return (
    <svg viewBox="0 0 20 20" className="size-5 shrink-0" aria-hidden="true">
      <rect x="0.5" y="0.5" width="19" height="19" rx="5" fill={look.fill} />
      {paths[look.mark]}
    </svg>
  );
}

export function MapLegend({
  categories,
  highlight,
  onHighlight,
  counts,
  accessible = new Set<string>(),
}: {
  accessible?: ReadonlySet<string>;
  categories: CategoryInfo[];
  highlight: ReadonlySet<string> | null;
  onHighlight: (next: ReadonlySet<string> | null) => void;
  counts: SeatCounts;
}) {
  const toggle = (name: string) => {
    const next = new Set(highlight ?? []);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    onHighlight(next.size === 0 ? null : next);
  };
  return (
    <section aria-labelledby="legend-title" className="panel" data-testid="legend">
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <h2 id="legend-title" className="panel-title">
          Prices and legend
        </h2>
        <p className="text-xs text-slate-300">
          <span data-testid="count-available" className="font-semibold text-slate-100 tabular-nums">
            {counts.available.toLocaleString()}
          </span>{" "}
          of <span data-testid="count-total" className="tabular-nums">{counts.total.toLocaleString()}</span> free
        </p>
      </div>
      {categories.length > 0 && (
        <>
          <p className="mb-1.5 text-xs text-slate-300">Press a price to show only those seats.</p>
          <ul className="mb-3 grid gap-1.5" aria-label="Price categories">
            {categories.map((c) => {
              const on = highlight === null || highlight.has(c.name);
              return (
                <li key={c.name}>
                  <button
                    type="button"
                    aria-pressed={highlight !== null && highlight.has(c.name)}
                    data-testid={`category-${c.name}`}
                    onClick={() => toggle(c.name)}
                    className={`flex w-full min-h-9 items-center gap-2.5 rounded-lg px-2.5 py-1.5 text-left text-sm ring-1 ring-white/10 hover:bg-white/5 ${on ? "" : "opacity-60"}`}
                  >
                    <span aria-hidden="true" className="size-4 shrink-0 rounded" style={{ background: c.color }} />
                    <span className="flex-1 font-medium text-slate-100">{c.name}</span>
                    <span className="tabular-nums text-slate-100">{formatMoney(c.priceCents)}</span>
                  </button>
                </li>
              );
            })}
          </ul>
          {highlight && (
            <button type="button" className="mb-3 text-xs text-sky-300 underline" onClick={() => onHighlight(null)}>
              Show all prices
            </button>
          )}
        </>
      )}
      <ul aria-label="Seat states" className="grid grid-cols-2 gap-x-3 gap-y-1.5 text-xs text-slate-200">
        {KIND_ORDER.map((k) => (
          <li key={k} className="flex items-center gap-2">
            <Mark kind={k} />
            {LOOKS[k].label}
          </li>
        ))}
        {(counts.other.BLOCKED ?? 0) > 0 && (
          <li className="flex items-center gap-2">
            <Mark kind="blocked" />
            {LOOKS.blocked.label}
          </li>
        )}
        {accessible.has("WHEELCHAIR") && (
          <li className="flex items-center gap-2">
            <AccessMark which="WHEELCHAIR" />
            Wheelchair space
          </li>
        )}
        {accessible.has("COMPANION") && (
          <li className="flex items-center gap-2">
            <AccessMark which="COMPANION" />
            Companion seat
          </li>
        )}
        {Object.entries(counts.other)
          .filter(([s]) => s !== "HELD" && s !== "BLOCKED")
          .map(([status, n]) => (
            <li key={status} className="flex items-center gap-2">
              <Mark kind="other" />
              {status.charAt(0) + status.slice(1).toLowerCase()} ({n})
            </li>
          ))}
      </ul>
    </section>
  );
}
