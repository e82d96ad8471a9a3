/**
 * Let the server choose: "best available" for N seats (optionally a price category and section, together or
 * split), and general-admission areas with their live counts and a quantity picker. Both place one hold
 * (`POST /api/v1/holds` with `bestAvailable`), which then goes through the same countdown and confirm.
 */
import { useId, useState } from "react";
import { MAX_PER_ORDER, formatMoney } from "../basket";
import type { Area } from "../types";
import type { Buyer } from "../useBuyer";
import type { CategoryInfo } from "./MapLegend";

export function BestAvailable({
  buyer,
  categories,
  sections,
  areas,
  canWrite,
  sessionReady,
}: {
  buyer: Buyer;
  categories: CategoryInfo[];
  sections: string[];
  areas: Area[];
  canWrite: boolean;
  sessionReady: boolean;
}) {
  const id = useId();
  const [quantity, setQuantity] = useState(2);
  const [category, setCategory] = useState("");
  const [section, setSection] = useState("");
  const [together, setTogether] = useState(true);
  const [gaQty, setGaQty] = useState<Record<string, number>>({});
  const idle = buyer.phase === "selecting" && canWrite && sessionReady;
  const clamp = (n: number, max = MAX_PER_ORDER) => Math.max(1, Math.min(max, Math.round(n) || 1));

  return (
    <section aria-labelledby={`${id}-t`} className="panel space-y-3" data-testid="best-available">
      <h2 id={`${id}-t`} className="panel-title">
        Best available
      </h2>
      <form
        className="grid grid-cols-2 gap-2 text-sm"
        onSubmit={(e) => {
          e.preventDefault();
          void buyer.holdBest({ quantity, together, ...(category ? { category } : {}), ...(section ? { section } : {}) });
        }}
      >
        <label className="grid gap-1 text-slate-200">
          Seats
          <input
            type="number"
            min={1}
            max={MAX_PER_ORDER}
            value={quantity}
            data-testid="best-quantity"
            onChange={(e) => setQuantity(clamp(Number(e.target.value)))}
            className="min-h-9 rounded-lg border border-white/15 bg-slate-900 px-2 text-slate-100"
          />
        </label>
        <label className="grid gap-1 text-slate-200">
          Price
          <select value={category} onChange={(e) => setCategory(e.target.value)} className="min-h-9 rounded-lg border border-white/15 bg-slate-900 px-2 text-slate-100">
            <option value="">Any price</option>
            {categories.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name} ({formatMoney(c.priceCents)})
              </option>
            ))}
          </select>
        </label>
        {sections.length > 1 && (
          <label className="col-span-2 grid gap-1 text-slate-200">
            Section
            <select value={section} onChange={(e) => setSection(e.target.value)} className="min-h-9 rounded-lg border border-white/15 bg-slate-900 px-2 text-slate-100">
              <option value="">Any section</option>
              {sections.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="col-span-2 flex min-h-9 items-center gap-2 text-slate-200">
          <input type="checkbox" checked={together} onChange={(e) => setTogether(e.target.checked)} className="size-5" />
          Seats next to each other
        </label>
        <button type="submit" className="btn-primary col-span-2" disabled={!idle} data-testid="best-hold">
          Find and hold {quantity} seat{quantity === 1 ? "" : "s"}
        </button>
      </form>
      {areas.length > 0 && (
        <div className="space-y-2" data-testid="ga-areas">
          <h3 className="panel-title">Standing and general admission</h3>
          <ul className="space-y-2">
            {areas.map((a) => {
              const qty = clamp(gaQty[a.name] ?? 1, Math.min(MAX_PER_ORDER, Math.max(1, a.available)));
              return (
                <li key={a.name} className="flex flex-wrap items-center justify-between gap-2 rounded-lg px-2.5 py-2 text-sm ring-1 ring-white/10" data-testid="ga-area" data-area={a.name}>
                  <span>
                    <span className="block font-medium text-slate-100">{a.name}</span>
                    <span className="block text-xs text-slate-300">
                      {formatMoney(a.priceCents)} · <span data-testid="ga-available">{a.available.toLocaleString()}</span> of {a.capacity.toLocaleString()} left
                    </span>
                  </span>
                  <span className="flex items-center gap-1.5">
                    <label className="sr-only" htmlFor={`${id}-${a.name}`}>
                      Tickets for {a.name}
                    </label>
                    <input
                      id={`${id}-${a.name}`}
                      type="number"
                      min={1}
                      max={Math.min(MAX_PER_ORDER, a.available)}
                      value={qty}
                      onChange={(e) => setGaQty((q) => ({ ...q, [a.name]: Number(e.target.value) }))}
                      className="min-h-9 w-16 rounded-lg border border-white/15 bg-slate-900 px-2 text-slate-100"
                    />
                    <button
                      type="button"
                      className="btn-secondary"
                      disabled={!idle || a.available === 0}
                      onClick={() => void buyer.holdBest({ quantity: qty, section: a.name })}
                    >
                      {a.available === 0 ? "Sold out" : "Hold"}
                    </button>
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </section>
  );
}
