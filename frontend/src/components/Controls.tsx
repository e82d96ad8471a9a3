/** Who am I (this browser's anonymous session) and which locking strategy bookings use. */
import { useId } from "react";
import { STRATEGIES, type Session, type Strategy } from "../types";

/**
 * The server knows this browser by an anonymous session, not by a name typed here: nobody can book or cancel
 * as someone else, and seat maps never show who booked a seat. Seats booked with this session show as yours.
 */
export function WhoAmI({ session }: { session: Session | null }) {
  return (
    <div>
      <p className="panel-title mb-2">Who am I</p>
      <p data-testid="session-status" data-ready={session !== null} className="text-sm text-slate-300">
        {session ? (
          <>
            This browser&apos;s anonymous session{" "}
            <code data-testid="session-id" className="rounded bg-slate-950/60 px-1.5 py-0.5 text-xs text-slate-400">
              {session.userId.replace(/^session:/, "").slice(0, 8)}
            </code>
          </>
        ) : (
          "Getting a session…"
        )}
      </p>
    </div>
  );
}

const STRATEGY_HINT: Record<Strategy, string> = {
  DB: "Row lock (SELECT … FOR UPDATE)",
  REDIS: "Redis lease, then the database",
  ATOMIC: "One conditional UPDATE (fastest)",
};

export function StrategyPicker({ value, onChange }: { value: Strategy; onChange: (s: Strategy) => void }) {
  const name = useId();
  return (
    <fieldset>
      <legend className="panel-title mb-2">Strategy</legend>
      <div className="grid grid-cols-3 gap-1 rounded-lg bg-slate-950/60 p-1 ring-1 ring-white/10">
        {STRATEGIES.map((s) => (
          <label
            key={s}
            title={STRATEGY_HINT[s]}
            className="cursor-pointer rounded-md px-2 py-1.5 text-center text-sm font-semibold text-slate-300 transition has-[:checked]:bg-sky-500 has-[:checked]:text-slate-950 has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-sky-300 hover:text-white has-[:checked]:hover:text-slate-950"
          >
            <input
              type="radio"
              name={name}
              value={s}
              checked={value === s}
              onChange={() => onChange(s)}
              className="sr-only"
              data-testid={`strategy-${s}`}
            />
            {s}
          </label>
        ))}
      </div>
      <p className="mt-1.5 text-xs text-slate-400">{STRATEGY_HINT[value]}</p>
    </fieldset>
  );
}
