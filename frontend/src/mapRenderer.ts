/**
 * The seat map on a <canvas>: zoom, pan, fit, and repaints that cost what changed.
 *
 * A full paint draws only the seats inside the viewport (culled through each section's grid), at most once
 * per animation frame. A live change repaints just the changed seats' cells when nothing else is pending, so
 * a burst of k changes costs O(k) drawing. No React in here: the wrapper component owns the DOM and input.
 */
import { GUTTER, PITCH, SEAT, TITLE, seatAt, seatOrigin, type MapModel } from "./mapModel";
import { LOOKS, seatKind, type Mine, type SeatKind } from "./seatLook";
import type { Seat } from "./types";

export interface RenderInputs {
  seats: ReadonlyMap<number, Seat>;
  model: MapModel;
  mine: Mine;
  categoryColor: (category: string | null) => string;
  /** Categories shown at full strength; null = all. */
  highlight: ReadonlySet<string> | null;
  focusId: number;
  showFocus: boolean;
}

export interface View {
  scale: number;
  tx: number;
  ty: number;
}

const PAD = 24;
export const MAX_SCALE = 4;

export class MapRenderer {
  private readonly ctx: CanvasRenderingContext2D | null;
  private width = 0;
  private height = 0;
  private dpr = 1;
  view: View = { scale: 1, tx: 0, ty: 0 };
  private inputs: RenderInputs | null = null;
  private frame = 0;
  private fullPending = false;
  private partial = new Set<number>();
  /** Statistics for the e2e run and the demo drawer. */
  stats = { fullDraws: 0, partialDraws: 0, lastFullMs: 0, seatsDrawn: 0 };
  onViewChange: (() => void) | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d", { alpha: true });
  }

  setInputs(inputs: RenderInputs): void {
    this.inputs = inputs;
    this.requestFull();
  }

  resize(width: number, height: number, dpr: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.dpr = dpr;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.requestFull();
  }

  get size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  minScale(): number {
    return this.fitScale() * 0.6;
  }

  fitScale(): number {
    const model = this.inputs?.model;
    if (!model) return 1;
    return Math.min(MAX_SCALE, Math.min((this.width - PAD * 2) / model.width, (this.height - PAD * 2) / model.height));
  }

  /** Show the whole map. */
  fit(): void {
    const model = this.inputs?.model;
    if (!model) return;
    this.fitRect(0, 0, model.width, model.height);
  }

  /** Show a world rectangle as large as it fits. */
  fitRect(x: number, y: number, w: number, h: number, maxScale = MAX_SCALE): void {
    const scale = Math.min(maxScale, (this.width - PAD * 2) / w, (this.height - PAD * 2) / h);
    this.setView({ scale, tx: (this.width - w * scale) / 2 - x * scale, ty: (this.height - h * scale) / 2 - y * scale });
  }

  setView(view: View): void {
    this.view = view;
    this.requestFull();
    this.onViewChange?.();
  }

  /** Zoom by `factor` around a screen point (the centre by default). */
  zoomAt(factor: number, sx = this.width / 2, sy = this.height / 2): void {
    const { scale, tx, ty } = this.view;
    const next = Math.min(MAX_SCALE, Math.max(this.minScale(), scale * factor));
    const k = next / scale;
    this.setView({ scale: next, tx: sx - (sx - tx) * k, ty: sy - (sy - ty) * k });
  }

  panBy(dx: number, dy: number): void {
    this.setView({ ...this.view, tx: this.view.tx + dx, ty: this.view.ty + dy });
  }

  toWorld(sx: number, sy: number): { x: number; y: number } {
    return { x: (sx - this.view.tx) / this.view.scale, y: (sy - this.view.ty) / this.view.scale };
  }

  seatAtScreen(sx: number, sy: number): number {
    const model = this.inputs?.model;
    if (!model) return 0;
    const { x, y } = this.toWorld(sx, sy);
    return seatAt(model, x, y);
  }

  /** The seat's box on screen (CSS pixels relative to the canvas), or null. */
  seatBox(seatId: number): { x: number; y: number; size: number } | null {
    const inputs = this.inputs;
    const seat = inputs?.seats.get(seatId);
    if (!inputs || !seat) return null;
    const o = seatOrigin(inputs.model, seat);
    if (!o) return null;
    const { scale, tx, ty } = this.view;
    return { x: o.x * scale + tx, y: o.y * scale + ty, size: SEAT * scale };
  }

  /** Pan (and zoom in to at least `minPx` per seat) so the seat is comfortably inside the view. */
  reveal(seatId: number, minPx = 0): void {
    let box = this.seatBox(seatId);
    if (!box) return;
    if (box.size < minPx) {
      this.zoomAt(minPx / box.size, box.x + box.size / 2, box.y + box.size / 2);
      box = this.seatBox(seatId);
      if (!box) return;
    }
    const margin = Math.min(60, this.width / 4, this.height / 4);
    let dx = 0;
    let dy = 0;
    if (box.x < margin) dx = margin - box.x;
    else if (box.x + box.size > this.width - margin) dx = this.width - margin - box.x - box.size;
    if (box.y < margin) dy = margin - box.y;
    else if (box.y + box.size > this.height - margin) dy = this.height - margin - box.y - box.size;
    if (dx || dy) this.panBy(dx, dy);
  }

  /** Repaint these seats only (live changes). */
  seatsChanged(ids: Iterable<number>): void {
    if (this.fullPending) return;
    for (const id of ids) this.partial.add(id);
    if (this.partial.size > 4000) {
      this.partial.clear();
      this.requestFull();
      return;
    }
    this.schedule();
  }

  requestFull(): void {
    this.fullPending = true;
    this.partial.clear();
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (cb: FrameRequestCallback) => setTimeout(() => cb(0), 16) as unknown as number;
    this.frame = raf(() => {
      this.frame = 0;
      this.flush();
    });
  }

  /** Paint now what is pending (tests and the e2e inspector call this directly). */
  flush(): void {
    if (this.fullPending) {
      this.fullPending = false;
      this.drawAll();
    } else if (this.partial.size > 0) {
      const ids = [...this.partial];
      this.partial.clear();
      this.drawSome(ids);
    }
  }

  destroy(): void {
    if (this.frame && typeof cancelAnimationFrame === "function") cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  private worldTransform(ctx: CanvasRenderingContext2D): void {
    const { scale, tx, ty } = this.view;
    ctx.setTransform(this.dpr * scale, 0, 0, this.dpr * scale, this.dpr * tx, this.dpr * ty);
  }

  private drawAll(): void {
    const ctx = this.ctx;
    const inputs = this.inputs;
    if (!ctx) return;
    const started = performance.now();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!inputs) return;
    const { model, seats } = inputs;
    this.worldTransform(ctx);
    const { scale } = this.view;
    const vx0 = -this.view.tx / scale;
    const vy0 = -this.view.ty / scale;
    const vx1 = vx0 + this.width / scale;
    const vy1 = vy0 + this.height / scale;
    const px = SEAT * scale;
    const labels = PITCH * scale >= 11;
    let drawn = 0;
    ctx.textBaseline = "middle";
    for (const box of model.sections) {
      if (box.x > vx1 || box.y > vy1 || box.x + box.width < vx0 || box.y + box.height < vy0) continue;
      // Section name: readable from quite far out (it is the overview's label).
      const titlePx = Math.max(14, 13 / scale);
      if (titlePx * scale >= 9) {
        ctx.fillStyle = "#e2e8f0";
        ctx.font = `600 ${Math.min(titlePx, TITLE * 2.5)}px system-ui, sans-serif`;
        ctx.textAlign = "left";
        ctx.fillText(box.name, box.x + GUTTER, box.y + TITLE / 2 - (titlePx > TITLE ? titlePx / 3 : 0));
      }
      const c0 = Math.max(0, Math.floor((vx0 - box.x - GUTTER) / PITCH));
      const c1 = Math.min(box.columns - 1, Math.floor((vx1 - box.x - GUTTER) / PITCH));
      const r0 = Math.max(0, Math.floor((vy0 - box.y - TITLE) / PITCH));
      const r1 = Math.min(box.rows.length - 1, Math.floor((vy1 - box.y - TITLE) / PITCH));
      if (labels) {
        ctx.fillStyle = "#94a3b8";
        ctx.font = `500 11px system-ui, sans-serif`;
        ctx.textAlign = "center";
        for (let r = r0; r <= r1; r++) ctx.fillText(box.rows[r]!, box.x + GUTTER / 2 - 2, box.y + TITLE + r * PITCH + SEAT / 2);
      }
      for (let r = r0; r <= r1; r++) {
        const y = box.y + TITLE + r * PITCH;
        const rowBase = r * box.columns;
        for (let c = c0; c <= c1; c++) {
          const id = box.grid[rowBase + c]!;
          if (!id) continue;
          const seat = seats.get(id);
          if (!seat) continue;
          this.drawSeat(ctx, inputs, seat, box.x + GUTTER + c * PITCH, y, px);
          drawn += 1;
        }
      }
    }
    this.drawFocus(ctx, inputs);
    this.stats.fullDraws += 1;
    this.stats.seatsDrawn = drawn;
    this.stats.lastFullMs = performance.now() - started;
  }

  private drawSome(ids: number[]): void {
    const ctx = this.ctx;
    const inputs = this.inputs;
    if (!ctx || !inputs) return;
    this.worldTransform(ctx);
    const px = SEAT * this.view.scale;
    let focusTouched = false;
    for (const id of ids) {
      const seat = inputs.seats.get(id);
      if (!seat) continue;
      const o = seatOrigin(inputs.model, seat);
      if (!o) continue;
      if (id === inputs.focusId) focusTouched = true;
      ctx.clearRect(o.x - 2, o.y - 2, SEAT + 4, SEAT + 4);
      this.drawSeat(ctx, inputs, seat, o.x, o.y, px);
    }
    if (focusTouched) this.drawFocus(ctx, inputs);
    this.stats.partialDraws += 1;
  }

  private drawFocus(ctx: CanvasRenderingContext2D, inputs: RenderInputs): void {
    if (!inputs.showFocus || !inputs.focusId) return;
    const seat = inputs.seats.get(inputs.focusId);
    if (!seat) return;
    const o = seatOrigin(inputs.model, seat);
    if (!o) return;
    const s = this.view.scale;
    // Two rings (white outside, near-black inside), 2 px each on screen whatever the zoom: visible on any fill.
    ctx.lineWidth = 2 / s;
    ctx.strokeStyle = "#0b1224";
    ctx.strokeRect(o.x - 1 / s, o.y - 1 / s, SEAT + 2 / s, SEAT + 2 / s);
    ctx.strokeStyle = "#fde047";
    ctx.lineWidth = 3 / s;
    ctx.strokeRect(o.x - 3.5 / s, o.y - 3.5 / s, SEAT + 7 / s, SEAT + 7 / s);
  }

  private drawSeat(ctx: CanvasRenderingContext2D, inputs: RenderInputs, seat: Seat, x: number, y: number, px: number): void {
    const kind = seatKind(seat, inputs.mine);
    const look = LOOKS[kind];
    const faded = inputs.highlight !== null && seat.category !== null && !inputs.highlight.has(seat.category) && kind === "available";
    const fill = kind === "available" ? inputs.categoryColor(seat.category) : look.fill;
    ctx.globalAlpha = faded ? 0.22 : 1;
    ctx.fillStyle = fill;
    if (px < 7) {
      ctx.fillRect(x, y, SEAT, SEAT);
    } else {
      ctx.beginPath();
      ctx.roundRect(x, y, SEAT, SEAT, [6, 6, 4, 4]);
      ctx.fill();
      if (kind === "selected") {
        ctx.lineWidth = 3;
        ctx.strokeStyle = inputs.categoryColor(seat.category);
        ctx.stroke();
      }
    }
    if (px >= 10 && look.mark !== "none") drawMark(ctx, kind, look.mark, look.markColor, x, y);
    ctx.globalAlpha = 1;
  }
}

function drawMark(ctx: CanvasRenderingContext2D, _kind: SeatKind, mark: string, color: string, x: number, y: number): void {
  const cx = x + SEAT / 2;
  const cy = y + SEAT / 2;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = 2.4;
  ctx.beginPath();
  switch (mark) {
    case "cross":
      ctx.moveTo(cx - 5, cy - 5);
      ctx.lineTo(cx + 5, cy + 5);
      ctx.moveTo(cx + 5, cy - 5);
      ctx.lineTo(cx - 5, cy + 5);
      ctx.stroke();
      break;
    case "check":
      ctx.moveTo(cx - 5.5, cy);
      ctx.lineTo(cx - 1.5, cy + 4.5);
      ctx.lineTo(cx + 6, cy - 5);
      ctx.stroke();
      break;
    case "clock":
      ctx.lineWidth = 2;
      ctx.arc(cx, cy, 6.5, 0, Math.PI * 2);
      ctx.moveTo(cx, cy - 3.5);
      ctx.lineTo(cx, cy);
      ctx.lineTo(cx + 3, cy + 2);
      ctx.stroke();
      break;
    case "star": {
      for (let i = 0; i < 10; i++) {
        const r = i % 2 === 0 ? 7.5 : 3.2;
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        if (i === 0) ctx.moveTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
        else ctx.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
      }
      ctx.closePath();
      ctx.fill();
      break;
    }
    case "dots":
      for (const [dx, dy] of [
        [-4, -4],
        [4, -4],
        [-4, 4],
        [4, 4],
        [0, 0],
      ] as const) {
        ctx.moveTo(cx + dx + 1.6, cy + dy);
        ctx.arc(cx + dx, cy + dy, 1.6, 0, Math.PI * 2);
      }
      ctx.fill();
      break;
    case "question":
      ctx.font = "700 14px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("?", cx, cy + 1);
      break;
  }
}
