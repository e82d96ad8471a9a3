/** Who am I (persisted in localStorage) and which locking strategy bookings use. */
import { useId } from "react";
import { STRATEGIES, type Strategy } from "../types";

export const MAX_USER_ID_LENGTH = 64;

/** Mirrors the server's rule: 1-64 characters after trimming, no control characters. */
export function userIdProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === "") return "Enter a name to book seats";
  if (value.length > MAX_USER_ID_LENGTH) return `At most ${MAX_USER_ID_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return "No control characters";
  return null;
}

export function UserField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const id = useId();
  const problem = userIdProblem(value);
  return (
    <div>
      <label htmlFor={id} className="panel-title mb-2 block">
        Who am I
      </label>
      <input
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        maxLength={MAX_USER_ID_LENGTH}
        autoComplete="nickname"
        spellCheck={false}
        aria-invalid={problem !== null}
        aria-describedby={problem ? `${id}-problem` : undefined}
        data-testid="user-id"
        className="w-full rounded-lg border border-white/10 bg-slate-950/60 px-3 py-2 text-slate-100 placeholder:text-slate-500 focus:border-sky-400 focus:outline-none focus:ring-2 focus:ring-sky-400/40 aria-[invalid=true]:border-rose-400"
        placeholder="your name"
      />
      {problem && (
        <p id={`${id}-problem`} className="mt-1.5 text-sm text-rose-300">
          {problem}
        </p>
      )}
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
