/** Which event: a picker (deep-linkable as `?event=ID` or `/events/ID`) and the event's name, venue and date. */
import { useId } from "react";
import type { EventInfo } from "../types";

const when = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short" });

export function formatDate(iso: string | null): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : when.format(t);
}

export function EventPicker({
  events,
  value,
  onChange,
}: {
  events: EventInfo[];
  value: number | null;
  onChange: (eventId: number) => void;
}) {
  const id = useId();
  if (events.length === 0) return null;
  return (
    <div className="flex items-center gap-2">
      <label htmlFor={id} className="sr-only">
        Event
      </label>
      <select
        id={id}
        data-testid="event-picker"
        value={value ?? ""}
        onChange={(e) => onChange(Number(e.target.value))}
        className="max-w-56 rounded-lg border border-white/15 bg-slate-900 px-2.5 py-1.5 text-sm text-slate-100 sm:max-w-72"
      >
        {events.map((e) => (
          <option key={e.eventId} value={e.eventId}>
            {e.name} ({e.seatCount.toLocaleString()} seats)
          </option>
        ))}
      </select>
    </div>
  );
}

export function EventTitle({ event }: { event: EventInfo | null }) {
  if (!event) return null;
  const date = formatDate(event.startsAt);
  return (
    <div className="min-w-0" data-testid="event-title" data-event-id={event.eventId}>
      <h2 className="truncate text-xl font-bold text-white">{event.name}</h2>
      <p className="truncate text-sm text-slate-300">
        {[event.venue, date].filter(Boolean).join(" · ")}
      </p>
    </div>
  );
}
