/**
 * The interactive seat map: a canvas (drawn by `MapRenderer`) inside one focusable "application" region.
 * Mouse: click toggles a seat, drag pans, wheel zooms. Touch: tap, drag, pinch; a tap on seats smaller
 * than 24 px zooms in first, so every seat tapped is at least a 24 px target. Keyboard: arrows move (across
 * sections), Page Up/Down jump a section, Home/End a row, Enter/Space toggles, + / - zoom, 0 fits.
 * The seat under the pointer or the keyboard focus is described in a tooltip (place, category, price,
 * state) and announced to screen readers.
 */
import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState, type KeyboardEvent } from "react";
import { moveFocus, type MapModel, type Move } from "../mapModel";
import { MapRenderer } from "../mapRenderer";
import type { Mine } from "../seatLook";
import type { SeatStore } from "../seatStore";

export interface SeatCanvasHandle {
  renderer: MapRenderer | null;
  focusSeat: (seatId: number, zoomTo?: boolean) => void;
  fit: () => void;
  zoom: (factor: number) => void;
  showSection: (name: string) => void;
  focusedSeat: () => number;
}

interface Props {
  store: SeatStore;
  model: MapModel;
  mine: Mine;
  categoryColor: (category: string | null) => string;
  highlight: ReadonlySet<string> | null;
  onActivate: (seatId: number) => void;
  describe: (seatId: number) => string;
  label: string;
}

const KEYS: Record<string, Move> = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
  Home: "home",
  End: "end",
  PageDown: "nextSection",
  PageUp: "prevSection",
};

/** Smallest seat a touch may pick; smaller ones zoom in first (WCAG 2.5.8 target size). */
export const MIN_TOUCH_PX = 24;

export const SeatCanvas = forwardRef<SeatCanvasHandle, Props>(function SeatCanvas(
  { store, model, mine, categoryColor, highlight, onActivate, describe, label },
  ref,
) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<MapRenderer | null>(null);
  const [focusId, setFocusId] = useState(0);
  const [focused, setFocused] = useState(false);
  const [hover, setHover] = useState<{ id: number; x: number; y: number } | null>(null);
  const [announce, setAnnounce] = useState("");
  const userMoved = useRef(false);
  const [, setViewTick] = useState(0);

  // The renderer lives as long as the canvas.
  useEffect(() => {
    if (!canvas.current) return;
    const r = new MapRenderer(canvas.current);
    r.onViewChange = () => setViewTick((n) => n + 1);
    renderer.current = r;
    return () => {
      r.destroy();
      renderer.current = null;
    };
  }, []);

  // Follow the container's size; refit until the buyer zooms or pans by hand.
  useEffect(() => {
    const el = wrap.current;
    const r = renderer.current;
    if (!el || !r) return;
    const apply = () => {
      const rect = el.getBoundingClientRect();
      const before = r.size;
      r.resize(rect.width, rect.height, window.devicePixelRatio || 1);
      const after = r.size;
      if (!userMoved.current && (before.width !== after.width || before.height !== after.height)) r.fit();
    };
    apply();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(apply);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A new map (another event): fit it.
  useEffect(() => {
    userMoved.current = false;
    setFocusId(0);
  }, [model]);

  useEffect(() => {
    const r = renderer.current;
    if (!r) return;
    r.setInputs({ seats: store.seats, model, mine, categoryColor, highlight, focusId, showFocus: focused });
  }, [store, model, mine, categoryColor, highlight, focusId, focused]);

  useEffect(() => {
    if (!userMoved.current) renderer.current?.fit();
  }, [model]);

  // Live changes repaint only the seats that moved.
  useEffect(
    () =>
      store.subscribe((changes) => {
        const r = renderer.current;
        if (!r) return;
        if (changes.all) r.requestFull();
        else if (changes.ids.length) r.seatsChanged(changes.ids);
      }),
    [store],
  );

  const focusSeat = useCallback(
    (seatId: number, zoomTo = false) => {
      if (!seatId) return;
      setFocusId(seatId);
      userMoved.current = true;
      renderer.current?.reveal(seatId, zoomTo ? 28 : 0);
      setAnnounce(describe(seatId));
    },
    [describe],
  );

  useImperativeHandle(
    ref,
    () => ({
      get renderer() {
        return renderer.current;
      },
      focusSeat: (id, zoomTo) => {
        focusSeat(id, zoomTo);
        wrap.current?.focus();
      },
      fit: () => {
        userMoved.current = false;
        renderer.current?.fit();
      },
      zoom: (f) => {
        userMoved.current = true;
        renderer.current?.zoomAt(f);
      },
      showSection: (name) => {
        const box = model.byName.get(name);
        if (!box || !renderer.current) return;
        userMoved.current = true;
        renderer.current.fitRect(box.x, box.y, box.width, box.height);
        const first = moveFocus(model, store.seats, 0, "first");
        const inSection = box.grid.find((id) => id !== 0) ?? first;
        setFocusId(inSection);
      },
      focusedSeat: () => focusId,
    }),
    [focusSeat, model, store, focusId],
  );

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      const r = renderer.current;
      if (!r) return;
      e.preventDefault();
      userMoved.current = true;
      const rect = el.getBoundingClientRect();
      if (e.ctrlKey || Math.abs(e.deltaY) >= Math.abs(e.deltaX)) r.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
      else r.panBy(-e.deltaX, 0);
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, []);

  // Pointers: a press that does not move is a click/tap; one that moves pans; two pinch.
  const pointers = useRef(new Map<number, { x: number; y: number; startX: number; startY: number; type: string }>());
  const dragged = useRef(false);
  const pinch = useRef<number | null>(null);

  const local = (e: { clientX: number; clientY: number }) => {
    const rect = wrap.current!.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  const onPointerDown = (e: React.PointerEvent) => {
    const p = local(e);
    pointers.current.set(e.pointerId, { ...p, startX: p.x, startY: p.y, type: e.pointerType });
    if (pointers.current.size === 1) dragged.current = false;
    if (pointers.current.size === 2) {
      const [a, b] = [...pointers.current.values()];
      pinch.current = Math.hypot(a!.x - b!.x, a!.y - b!.y);
    }
    (e.target as Element).setPointerCapture?.(e.pointerId);
  };

  const onPointerMove = (e: React.PointerEvent) => {
    const r = renderer.current;
    if (!r) return;
    const p = local(e);
    const known = pointers.current.get(e.pointerId);
    if (!known) {
      if (e.pointerType === "mouse") {
        const id = r.seatAtScreen(p.x, p.y);
        setHover(id ? { id, ...p } : null);
      }
      return;
    }
    if (pointers.current.size === 2 && pinch.current) {
      known.x = p.x;
      known.y = p.y;
      const [a, b] = [...pointers.current.values()];
      const d = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      r.zoomAt(d / pinch.current, (a!.x + b!.x) / 2, (a!.y + b!.y) / 2);
      pinch.current = d;
      dragged.current = true;
      userMoved.current = true;
      return;
    }
    const dx = p.x - known.x;
    const dy = p.y - known.y;
    known.x = p.x;
    known.y = p.y;
    if (!dragged.current && Math.hypot(p.x - known.startX, p.y - known.startY) < 6) return;
    dragged.current = true;
    userMoved.current = true;
    setHover(null);
    r.panBy(dx, dy);
  };

  const onPointerUp = (e: React.PointerEvent) => {
    const known = pointers.current.get(e.pointerId);
    pointers.current.delete(e.pointerId);
    if (pointers.current.size < 2) pinch.current = null;
    const r = renderer.current;
    if (!known || !r || dragged.current || pointers.current.size > 0) return;
    const p = local(e);
    const id = r.seatAtScreen(p.x, p.y);
    if (!id) return;
    const box = r.seatBox(id);
    if (known.type !== "mouse" && box && box.size < MIN_TOUCH_PX) {
      // Too small to tap reliably: zoom in around the tap instead of guessing the seat.
      userMoved.current = true;
      r.zoomAt(Math.min(3, (MIN_TOUCH_PX + 8) / box.size), p.x, p.y);
      return;
    }
    setFocusId(id);
    setAnnounce(describe(id));
    onActivate(id);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const move = KEYS[e.key];
    if (move) {
      e.preventDefault();
      const next = moveFocus(model, store.seats, focusId, focusId ? move : "first");
      focusSeat(next);
      return;
    }
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const id = focusId || moveFocus(model, store.seats, 0, "first");
      if (!focusId) {
        focusSeat(id);
        return;
      }
      onActivate(id);
      // The seat's state changes after the answer; say the new state once it is known.
      setTimeout(() => setAnnounce(describe(id)), 50);
      return;
    }
    if (e.key === "+" || e.key === "=") {
      e.preventDefault();
      userMoved.current = true;
      renderer.current?.zoomAt(1.4);
    } else if (e.key === "-") {
      e.preventDefault();
      userMoved.current = true;
      renderer.current?.zoomAt(1 / 1.4);
    } else if (e.key === "0") {
      e.preventDefault();
      userMoved.current = false;
      renderer.current?.fit();
    }
  };

  const onFocus = () => {
    setFocused(true);
    if (!focusId) {
      const first = moveFocus(model, store.seats, 0, "first");
      setFocusId(first);
      setAnnounce(describe(first));
    }
  };

  // The tooltip follows the pointer (mouse) or the keyboard focus.
  const tipId = hover?.id ?? (focused ? focusId : 0);
  let tip: { x: number; y: number; text: string } | null = null;
  if (tipId && renderer.current) {
    const box = renderer.current.seatBox(tipId);
    if (box) tip = { x: box.x + box.size / 2, y: box.y, text: describe(tipId) };
  }
  const { width } = renderer.current?.size ?? { width: 0 };

  return (
    <div className="relative h-full w-full">
      <div
        ref={wrap}
        role="application"
        aria-roledescription="seat map"
        aria-label={label}
        aria-describedby="seatmap-help"
        tabIndex={0}
        data-testid="seat-map"
        data-focused-seat={focusId || undefined}
        className="seatmap-focus relative h-full w-full touch-none overflow-hidden rounded-xl bg-slate-950/60 select-none"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => setHover(null)}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
        onBlur={() => setFocused(false)}
      >
        <canvas ref={canvas} aria-hidden="true" className="block" />
      </div>
      {tip && (
        <div
          role="tooltip"
          data-testid="seat-tooltip"
          className="pointer-events-none absolute z-20 max-w-64 -translate-x-1/2 -translate-y-full rounded-lg border border-white/15 bg-slate-900 px-2.5 py-1.5 text-xs text-slate-100 shadow-xl"
          style={{ left: Math.min(Math.max(tip.x, 90), Math.max(90, width - 90)), top: Math.max(tip.y - 6, 36) }}
        >
          {tip.text}
        </div>
      )}
      <p id="seatmap-help" className="sr-only">
        Arrow keys move between seats and sections, Page Up and Page Down jump a section, Enter or Space adds or removes
        the seat from your basket, plus and minus zoom, 0 shows the whole map.
      </p>
      <div aria-live="polite" className="sr-only" data-testid="seat-announce">
        {announce}
      </div>
    </div>
  );
});
