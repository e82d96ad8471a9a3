/** Short notices in a polite live region; errors are announced assertively. */
import { useCallback, useEffect, useRef, useState } from "react";

export type ToastKind = "success" | "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  detail?: string;
}

export const MAX_TOASTS = 4;
export const TOAST_MS = 6000;

export function useToasts(lifetimeMs = TOAST_MS) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);

  const push = useCallback(
    (toast: Omit<Toast, "id">) => {
      const id = nextId.current++;
      setToasts((list) => [...list, { ...toast, id }].slice(-MAX_TOASTS));
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), lifetimeMs),
      );
    },
    [dismiss, lifetimeMs],
  );

  useEffect(() => {
    const all = timers.current;
    return () => all.forEach((t) => clearTimeout(t));
  }, []);

  return { toasts, push, dismiss };
}

const STYLE: Record<ToastKind, string> = {
  success: "border-emerald-400/60 bg-emerald-950/95 text-emerald-50",
  error: "border-rose-400/70 bg-rose-950/95 text-rose-50",
  info: "border-sky-400/60 bg-slate-900/95 text-slate-50",
};

const MARK: Record<ToastKind, string> = { success: "✓", error: "!", info: "i" };

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div
      aria-live="polite"
      className="pointer-events-none fixed inset-x-3 bottom-3 z-50 flex flex-col items-stretch gap-2 sm:inset-x-auto sm:right-4 sm:bottom-4 sm:w-96"
    >
      {toasts.map((t) => (
        <div
          key={t.id}
          role={t.kind === "error" ? "alert" : "status"}
          data-testid="toast"
          data-kind={t.kind}
          className={`toast-in pointer-events-auto flex items-start gap-3 rounded-xl border px-4 py-3 shadow-2xl shadow-black/40 backdrop-blur ${STYLE[t.kind]}`}
        >
          <span
            aria-hidden="true"
            className="mt-0.5 grid size-6 shrink-0 place-items-center rounded-full bg-white/15 text-sm font-bold"
          >
            {MARK[t.kind]}
          </span>
          <div className="min-w-0 flex-1">
            <p className="font-semibold leading-snug">{t.title}</p>
            {t.detail && <p className="mt-0.5 text-sm leading-snug opacity-80">{t.detail}</p>}
          </div>
          <button
            type="button"
            onClick={() => onDismiss(t.id)}
            className="-mr-1 rounded-md px-1.5 text-lg leading-none opacity-70 hover:opacity-100 focus-visible:outline-2 focus-visible:outline-white"
            aria-label="Dismiss notification"
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
