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
  stats = { fullDraws: 0, partialDraws: 0, lastFullMs: 0, seatsDrawn: 0, loopMs: 0 };
  onViewChange: (() => void) | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d", { alpha: true });
  }

  setInputs(inputs: RenderInputs): void {
    this.inputs = inputs;
    this.requestFull();
  }

  resize(width: number, height: number, dpr: number): void {
    // Setting a canvas's size clears it, even to the same size: only when something changed.
    if (Math.max(1, width) === this.width && Math.max(1, height) === this.height && dpr === this.dpr) return;
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
    const batch = new Batch();
    const pixels = px < 7 ? new Pixels(ctx, this.canvas.width, this.canvas.height, this.dpr * scale, this.dpr * this.view.tx, this.dpr * this.view.ty) : null;
    ctx.textBaseline = "middle";
    for (const box of model.sections) {
      if (box.x > vx1 || box.y > vy1 || box.x + box.width < vx0 || box.y + box.height < vy0) continue;
      if (!pixels) this.drawTitle(ctx, box.name, box.x, box.y);
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
          const style = this.styleOf(inputs, seat);
          const x = box.x + GUTTER + c * PITCH;
          if (pixels) pixels.rect(style.rgba, x, y);
          else batch.add(style, seat, x, y);
          drawn += 1;
        }
      }
    }
    this.stats.loopMs = performance.now() - started;
    if (pixels) {
      // Far out, seats are a few pixels: written straight into the pixel buffer (a canvas call per seat costs
      // far more than the pixels it paints), then titles drawn on top.
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.putImageData(pixels.image, 0, 0);
      this.worldTransform(ctx);
      this.drawTitles(ctx, model, vx0, vy0, vx1, vy1);
    }
    // One path per look, then one fill per look: canvas state changes cost far more than rectangles.
    batch.paint(ctx, px);
    this.drawFocus(ctx, inputs);
    this.stats.fullDraws += 1;
    this.stats.seatsDrawn = drawn;
    this.stats.lastFullMs = performance.now() - started;
  }

  private drawTitle(ctx: CanvasRenderingContext2D, name: string, x: number, y: number): void {
    // Section name: readable from quite far out (it is the overview's label).
    const scale = this.view.scale;
    const titlePx = Math.max(14, 13 / scale);
    if (titlePx * scale < 9) return;
    ctx.fillStyle = "#e2e8f0";
    ctx.font = `600 ${Math.min(titlePx, TITLE * 2.5)}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(name, x + GUTTER, y + TITLE / 2 - (titlePx > TITLE ? titlePx / 3 : 0));
  }

  private drawTitles(ctx: CanvasRenderingContext2D, model: MapModel, vx0: number, vy0: number, vx1: number, vy1: number): void {
    for (const box of model.sections) {
      if (box.x > vx1 || box.y > vy1 || box.x + box.width < vx0 || box.y + box.height < vy0) continue;
      this.drawTitle(ctx, box.name, box.x, box.y);
    }
  }

  private drawSome(ids: number[]): void {
    const ctx = this.ctx;
    const inputs = this.inputs;
    if (!ctx || !inputs) return;
    const px = SEAT * this.view.scale;
    const pixelMode = px < 7;
    const k = this.dpr * this.view.scale;
    const ox = this.dpr * this.view.tx;
    const oy = this.dpr * this.view.ty;
    if (pixelMode) ctx.setTransform(1, 0, 0, 1, 0, 0);
    else this.worldTransform(ctx);
    let focusTouched = false;
    for (const id of ids) {
      const seat = inputs.seats.get(id);
      if (!seat) continue;
      const o = seatOrigin(inputs.model, seat);
      if (!o) continue;
      if (id === inputs.focusId) focusTouched = true;
      if (pixelMode) {
        // The same device pixels the full paint wrote (see Pixels.rect).
        const x0 = Math.round(o.x * k + ox);
        const y0 = Math.round(o.y * k + oy);
        const w = Math.max(1, Math.round((o.x + SEAT) * k + ox) - x0);
        const h = Math.max(1, Math.round((o.y + SEAT) * k + oy) - y0);
        const style = this.styleOf(inputs, seat);
        ctx.clearRect(x0, y0, w, h);
        ctx.globalAlpha = style.faded ? FADED_ALPHA : 1;
        ctx.fillStyle = style.fill;
        ctx.fillRect(x0, y0, w, h);
        ctx.globalAlpha = 1;
        continue;
      }
      ctx.clearRect(o.x - 2, o.y - 2, SEAT + 4, SEAT + 4);
      this.drawSeat(ctx, inputs, seat, o.x, o.y, px);
    }
    if (pixelMode) this.worldTransform(ctx);
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

  /** The look of a seat as a key: fill colour, faded or not, kind (for its mark). */
  private styleOf(inputs: RenderInputs, seat: Seat): Style {
    const kind = seatKind(seat, inputs.mine);
    const faded = kind === "available" && inputs.highlight !== null && seat.category !== null && !inputs.highlight.has(seat.category);
    const fill = kind === "available" || kind === "selected" ? inputs.categoryColor(seat.category) : LOOKS[kind].fill;
    return styleFor(kind, fill, faded, seat.accessibility);
  }

  private drawSeat(ctx: CanvasRenderingContext2D, inputs: RenderInputs, seat: Seat, x: number, y: number, px: number): void {
    const batch = new Batch();
    batch.add(this.styleOf(inputs, seat), seat, x, y);
    batch.paint(ctx, px);
  }
}

const FADED_ALPHA = 0.22;

interface Style {
  key: string;
  kind: SeatKind;
  /** The category colour (available seats' fill; the ring of a basket seat). */
  color: string;
  faded: boolean;
  /** What the seat is filled with, as CSS and as one RGBA pixel (little-endian ABGR) for the pixel path. */
  fill: string;
  rgba: number;
  /** WHEELCHAIR or COMPANION: a free seat shows the symbol. */
  access: string | null;
}

function pixelOf(hex: string, alpha: number): number {
  const v = /^#([0-9a-f]{6})$/i.exec(hex);
  const n = v ? parseInt(v[1]!, 16) : 0x64748b;
  const a = Math.round(alpha * 255);
  return ((a << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0;
}

const styles = new Map<string, Style>();
function styleFor(kind: SeatKind, color: string, faded: boolean, access: string | null): Style {
  const key = `${kind}|${color}|${faded ? 1 : 0}|${access ?? ""}`;
  let s = styles.get(key);
  if (!s) {
    // Far out, a basket seat shows its ring colour's opposite: white, like its fill up close.
    const fill = kind === "available" ? color : LOOKS[kind].fill;
    s = { key, kind, color, faded, fill, rgba: pixelOf(fill, faded ? FADED_ALPHA : 1), access };
    styles.set(key, s);
  }
  return s;
}

/** A frame's worth of pixels for the far-out view: seats are written as whole device-pixel rectangles. */
class Pixels {
  readonly image: ImageData;
  private readonly buf: Uint32Array;

  constructor(
    ctx: CanvasRenderingContext2D,
    private readonly w: number,
    private readonly h: number,
    private readonly k: number,
    private readonly ox: number,
    private readonly oy: number,
  ) {
    this.image = ctx.createImageData(w, h);
    this.buf = new Uint32Array(this.image.data.buffer);
  }

  rect(rgba: number, wx: number, wy: number): void {
    const { k, ox, oy, w, h, buf } = this;
    const x0 = Math.round(wx * k + ox);
    const y0 = Math.round(wy * k + oy);
    const x1 = Math.min(w, Math.max(x0 + 1, Math.round((wx + SEAT) * k + ox)));
    const y1 = Math.min(h, Math.max(y0 + 1, Math.round((wy + SEAT) * k + oy)));
    for (let y = Math.max(0, y0); y < y1; y++) buf.fill(rgba, y * w + Math.max(0, x0), y * w + x1);
  }
}

/** Seats grouped by look, painted with one path and one fill per look. */
class Batch {
  private readonly groups = new Map<Style, number[]>();

  add(style: Style, _seat: Seat, x: number, y: number): void {
    let g = this.groups.get(style);
    if (!g) {
      g = [];
      this.groups.set(style, g);
    }
    g.push(x, y);
  }

  paint(ctx: CanvasRenderingContext2D, px: number): void {
    const round = px >= 7;
    for (const [style, xy] of this.groups) {
      const look = LOOKS[style.kind];
      ctx.globalAlpha = style.faded ? FADED_ALPHA : 1;
      ctx.fillStyle = style.fill;
      if (round) {
        ctx.beginPath();
        for (let i = 0; i < xy.length; i += 2) ctx.roundRect(xy[i]!, xy[i + 1]!, SEAT, SEAT, 5);
        ctx.fill();
      } else {
        // Far out, plain rectangles: fillRect is the rasteriser's fast path (a big path is not).
        for (let i = 0; i < xy.length; i += 2) ctx.fillRect(xy[i]!, xy[i + 1]!, SEAT, SEAT);
      }
      if (style.kind === "selected" && round) {
        ctx.lineWidth = 3;
        ctx.strokeStyle = style.color;
        ctx.stroke();
      }
      const mark = style.kind === "available" && style.access ? (style.access === "WHEELCHAIR" ? "wheelchair" : "companion") : look.mark;
      if (px >= 10 && mark !== "none") {
        for (let i = 0; i < xy.length; i += 2) drawMark(ctx, style.kind, mark, look.markColor, xy[i]!, xy[i + 1]!);
      }
    }
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
    case "bar":
      ctx.lineWidth = 3;
      ctx.moveTo(cx - 6, cy);
      ctx.lineTo(cx + 6, cy);
      ctx.stroke();
      break;
    case "wheelchair":
      // The access symbol, simplified: head, back and seat, and the wheel.
      ctx.lineWidth = 1.8;
      ctx.arc(cx - 0.5, cy + 2.5, 4.5, 0, Math.PI * 2);
      ctx.moveTo(cx - 2, cy - 4);
      ctx.lineTo(cx - 2, cy + 1);
      ctx.lineTo(cx + 3.5, cy + 1);
      ctx.lineTo(cx + 5, cy + 6);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(cx - 2, cy - 7, 1.6, 0, Math.PI * 2);
      ctx.fill();
      break;
    case "companion":
      ctx.font = "700 12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("C", cx, cy + 1);
      break;
    case "question":
      ctx.font = "700 14px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("?", cx, cy + 1);
      break;
  }
}
