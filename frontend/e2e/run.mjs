#!/usr/bin/env node
/**
 * End-to-end checks of the seat map in Debian's headless Chromium (npm playwright-core, no browser download),
 * against a real `boxoffice serve`. Driven by tests/frontend/test_e2e.py, which starts the server, reads the
 * JSON this prints on its last stdout line, and checks the database afterwards.
 *
 *   node e2e/run.mjs --base http://127.0.0.1:8080 --out ../test-artifacts/frontend [--live]
 *
 * --live: the server has the STOMP endpoint (/ws), so live-update scenarios run; without it they are skipped
 * and every page is reloaded before its final state is read.
 *
 * The reconnect scenario needs the driver to restart the server: this script prints `PAUSE stop` and waits
 * for a line on stdin once the server is down, then `PAUSE start` and waits again once it is back.
 *
 * Each page is a buyer with its own anonymous session (its own browser context, so its own localStorage);
 * the report maps page names to the user ids the server gave them (`users`), for the database checks.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    out: { type: "string", default: "test-artifacts/frontend" },
    live: { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    "chaos-count": { type: "string", default: "100" },
  },
});
if (!args.base) throw new Error("--base is required");
const BASE = args.base.replace(/\/$/, "");
const OUT = args.out;
const LIVE = args.live;
const CHAOS_N = Number(args["chaos-count"]);
const WATCHDOG_MS = 200_000;
const LIVE_LIMIT_MS = 2000;

const log = (...a) => console.error("[e2e]", ...a);
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/** Ask the driver to do something to the server and wait until it says it is done. */
async function driver(request) {
  console.log(`PAUSE ${request}`);
  const answer = await stdin.next();
  if (answer.done) throw new Error(`driver went away during "${request}"`);
  return answer.value.trim();
}
const result = { live: LIVE, scenarios: {}, console: [], users: {} };
const watchdog = setTimeout(() => {
  console.error("[e2e] watchdog: giving up after", WATCHDOG_MS, "ms");
  process.exit(3);
}, WATCHDOG_MS);

await mkdir(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  timeout: 30_000,
});

/** A page in its own context (own localStorage, so its own session), called `user` in the report. */
async function openPage(user, viewport = { width: 1280, height: 900 }, extra = {}) {
  const context = await browser.newContext({ viewport, ...extra });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (m) => {
    if (m.type() === "error" && result.console.length < 50) result.console.push(`${user}: ${m.text()}`);
  });
  page.on("pageerror", (e) => result.console.push(`${user}: pageerror ${e.message}`));
  const started = Date.now();
  await page.goto(BASE + "/", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("button[data-seat-id]");
  const firstRenderMs = Date.now() - started;
  if (LIVE) await page.waitForSelector('[data-testid="link-status"][data-status="live"]', { timeout: 10_000 });
  await page.waitForSelector('[data-testid="session-status"][data-ready="true"]', { timeout: 10_000 });
  const userId = await page.evaluate(() => JSON.parse(window.localStorage.getItem("boxoffice.session")).userId);
  result.users[user] = userId;
  return { page, context, firstRenderMs, userId };
}

const seatSel = (number) => `button[data-seat-number="${number}"]`;
const seatStatus = (page, number) => page.getAttribute(seatSel(number), "data-status");
const shot = (page, name, fullPage = true) =>
  page.screenshot({ path: join(OUT, name), fullPage, animations: "disabled" }); // finished, not mid-fade
const text = async (page, testId) => (await page.textContent(`[data-testid="${testId}"]`))?.trim() ?? "";

async function scenario(name, fn) {
  const started = Date.now();
  try {
    result.scenarios[name] = { ok: true, ...(await fn()), ms: Date.now() - started };
  } catch (err) {
    result.scenarios[name] = { ok: false, error: String(err?.stack ?? err), ms: Date.now() - started };
  }
  log(name, JSON.stringify(result.scenarios[name]));
}

/** Every seat's status as this page shows it, keyed by seat number. */
const pageView = (page) =>
  page.$$eval("button[data-seat-id]", (els) => Object.fromEntries(els.map((e) => [e.dataset.seatNumber, e.dataset.status])));

const alice = await openPage("alice");
const bob = await openPage("bob");

await scenario("load", async () => {
  await shot(alice.page, "desktop-initial.png");
  const seats = await alice.page.$$eval("button[data-seat-id]", (els) => els.length);
  const tabStops = await alice.page.$$eval('button[data-seat-id][tabindex="0"]', (els) => els.length);
  const countTotal = await text(alice.page, "count-total");
  const firstSeatBox = await alice.page.locator(seatSel("A1")).boundingBox();
  return { seats, tabStops, countTotal, firstRenderMs: alice.firstRenderMs, seatPx: firstSeatBox?.width ?? 0 };
});

await scenario("keyboard", async () => {
  // Tab into the map (it is one tab stop), arrows to move, Enter to book: no mouse.
  const page = alice.page;
  let tabs = 0;
  let entered = null;
  while (tabs < 12 && !entered) {
    await page.keyboard.press("Tab");
    tabs += 1;
    entered = await page.evaluate(() => document.activeElement?.getAttribute("data-seat-number") ?? null);
  }
  if (!entered) throw new Error("Tab never reached the seat map");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowDown");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-seat-number"));
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    (n) => document.querySelector(`button[data-seat-number="${n}"]`)?.dataset.status === "BOOKED",
    focused,
  );
  const label = await page.getAttribute(seatSel(focused), "aria-label");
  return { tabs, entered, seat: focused, label };
});

const LIVE_SEAT = "C5";
await scenario("live", async () => {
  if (!LIVE) return { skipped: "server has no /ws route" };
  // Bob's page timestamps the moment the seat turns BOOKED; alice clicks.
  await bob.page.evaluate((sel) => {
    const el = document.querySelector(sel);
    window.__bookedAt = null;
    new MutationObserver(() => {
      if (el.dataset.status === "BOOKED" && window.__bookedAt === null) window.__bookedAt = Date.now();
    }).observe(el, { attributes: true, attributeFilter: ["data-status"] });
  }, seatSel(LIVE_SEAT));
  const before = await seatStatus(bob.page, LIVE_SEAT);
  const clickedAt = Date.now();
  await alice.page.click(seatSel(LIVE_SEAT));
  await bob.page.waitForFunction(() => window.__bookedAt !== null, null, { timeout: LIVE_LIMIT_MS + 3000 });
  const latencyMs = (await bob.page.evaluate(() => window.__bookedAt)) - clickedAt;
  await shot(bob.page, "live-other-page.png");
  const bobLabel = await bob.page.getAttribute(seatSel(LIVE_SEAT), "aria-label");
  const bobClass = await bob.page.getAttribute(seatSel(LIVE_SEAT), "class");
  // Nothing on bob's page (markup, storage) may tell him who booked the seat.
  const bobPage = (await bob.page.content()) + (await bob.page.evaluate(() => JSON.stringify(window.localStorage)));
  const bobSeesAlice = bobPage.includes(alice.userId);
  return { seat: LIVE_SEAT, before, latencyMs, limitMs: LIVE_LIMIT_MS, bobLabel, bobClass, bobSeesAlice };
});

await scenario("conflict", async () => {
  if (!LIVE) {
    // Without live updates alice books first through her own page; bob's page still shows it free.
    await alice.page.click(seatSel(LIVE_SEAT));
    await alice.page.waitForFunction((sel) => document.querySelector(sel)?.dataset.status === "BOOKED", seatSel(LIVE_SEAT));
  }
  await bob.page.click(seatSel(LIVE_SEAT));
  const toast = bob.page.locator('[data-testid="toast"][data-kind="error"]').first();
  await toast.waitFor({ timeout: 5000 });
  const toastText = (await toast.textContent())?.trim() ?? "";
  const role = await toast.getAttribute("role");
  await shot(bob.page, "conflict-toast.png", false);
  return { seat: LIVE_SEAT, toastText, role };
});

const chaosSeats = { DB: "J10", REDIS: "J20", ATOMIC: "J30" };
await scenario("chaos", async () => {
  const page = alice.page;
  await page.click('[data-testid="chaos-toggle"]', { force: true });
  const runs = [];
  for (const [strategy, number] of Object.entries(chaosSeats)) {
    await page.click(`[data-testid="strategy-${strategy}"]`, { force: true });
    await page.click(seatSel(number));
    await page.fill('[data-testid="chaos-count"]', String(CHAOS_N));
    await page.click('[data-testid="chaos-fire"]');
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="chaos-result"]')?.textContent?.includes(`Seat ${n}`) &&
        !document.querySelector('[data-testid="chaos-fire"]')?.disabled,
      number,
      { timeout: 60_000 },
    );
    runs.push({
      strategy,
      seat: number,
      winners: Number(await text(page, "chaos-winners")),
      conflicts: Number(await text(page, "chaos-conflicts")),
      errors: Number(await text(page, "chaos-errors")),
      winner: await text(page, "chaos-winner"),
      p50: await text(page, "chaos-latency-p50"),
      p95: await text(page, "chaos-latency-p95"),
      max: await text(page, "chaos-latency-max"),
    });
    if (strategy === "REDIS") await shot(page, "chaos-result.png");
  }
  await page.click('[data-testid="chaos-toggle"]', { force: true });
  await page.click('[data-testid="strategy-ATOMIC"]', { force: true });
  return { requests: CHAOS_N, runs };
});

await scenario("burst", async () => {
  if (!LIVE) return { skipped: "server has no /ws route" };
  // 200 bookings by other clients straight at the API; bob's 2,000-seat page must follow without stalling.
  const page = bob.page;
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: "longtask", buffered: false });
  });
  const view = await pageView(page);
  const targets = Object.entries(view)
    .filter(([, s]) => s === "AVAILABLE")
    .map(([n]) => n)
    .filter((n) => /^[P-Z]/.test(n))
    .slice(0, 200);
  const ids = await page.$$eval("button[data-seat-id]", (els, wanted) => {
    const set = new Set(wanted);
    return els.filter((e) => set.has(e.dataset.seatNumber)).map((e) => Number(e.dataset.seatId));
  }, targets);
  const resyncs = () => page.getAttribute('[data-testid="link-status"]', "data-resyncs").then(Number);
  const resyncsBefore = await resyncs();
  const started = Date.now();
  const answers = await Promise.all(
    ids.map((seatId, i) =>
      fetch(`${BASE}/api/v1/bookings`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ seatId, userId: `burst-${i}` }),
        signal: AbortSignal.timeout(20_000),
      }).then(
        (r) => r.status,
        () => 0,
      ),
    ),
  );
  // Under a loaded machine the server may shed some of the burst with 503; the page must show the rest.
  const created = answers.filter((s) => s === 201).length;
  const booked = targets.filter((_, i) => answers[i] === 201);
  const otherAnswers = {};
  for (const a of answers) if (a !== 201) otherAnswers[a] = (otherAnswers[a] ?? 0) + 1;
  try {
    await page.waitForFunction(
      (wanted) => wanted.every((n) => document.querySelector(`button[data-seat-number="${n}"]`)?.dataset.status === "BOOKED"),
      booked,
      { timeout: 15_000, polling: 50 },
    );
  } catch (err) {
    const missing = await page.evaluate(
      (wanted) => wanted.filter((n) => document.querySelector(`button[data-seat-number="${n}"]`)?.dataset.status !== "BOOKED"),
      booked,
    );
    const pill = await page.$eval('[data-testid="link-status"]', (e) => ({ ...e.dataset }));
    throw new Error(`${err.message}; not shown as booked: ${missing.length} ${missing.slice(0, 10)}; status ${JSON.stringify(pill)}; other answers ${JSON.stringify(otherAnswers)}`);
  }
  const convergedMs = Date.now() - started;
  const longTasks = await page.evaluate(() => window.__longTasks);
  await shot(page, "burst-2000-seats.png");
  return {
    bookings: ids.length,
    created,
    otherAnswers,
    convergedMs,
    longTasks: longTasks.length,
    longestTaskMs: Math.round(Math.max(0, ...longTasks)),
    resyncsDuringBurst: (await resyncs()) - resyncsBefore,
  };
});

await scenario("reconnect", async () => {
  if (!LIVE) return { skipped: "server has no /ws route" };
  const pages = [alice.page, bob.page];
  const status = (page) => page.getAttribute('[data-testid="link-status"]', "data-status");
  await driver("stop");
  await Promise.all(
    pages.map((p) => p.waitForSelector('[data-testid="link-status"][data-status="reconnecting"]', { timeout: 10_000 })),
  );
  const duringOutage = await Promise.all(pages.map(status));
  await shot(bob.page, "reconnecting.png", false);
  const restartedAt = Date.now();
  // The driver restarts the server and books this seat before answering; no page was connected to see it.
  const seat = await driver("start");
  await Promise.all(
    pages.map((p) =>
      p.waitForFunction(
        (n) =>
          document.querySelector('[data-testid="link-status"]')?.dataset.status === "live" &&
          document.querySelector(`button[data-seat-number="${n}"]`)?.dataset.status === "BOOKED",
        seat,
        { timeout: 40_000, polling: 100 },
      ),
    ),
  );
  return { seat, duringOutage, resyncedMs: Date.now() - restartedAt };
});

await scenario("phone", async () => {
  const phone = await openPage("phoebe", { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = phone.page;
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const seatPx = (await page.locator(seatSel("A1")).boundingBox())?.width ?? 0;
  await page.tap(seatSel("B2"));
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.status === "BOOKED", seatSel("B2"));
  await page.locator('[data-testid="toast"]').first().waitFor();
  await shot(page, "phone.png", false);
  await shot(page, "phone-full.png", true);
  // A wide map scrolls inside its panel; the row labels stay put.
  const scroll = await page.$eval('[data-testid="map-scroll"]', (el) => {
    el.scrollLeft = el.scrollWidth;
    return { scrollable: el.scrollWidth > el.clientWidth, left: el.scrollLeft };
  });
  const rowLabelX = (await page.locator(".seat-row-label").first().boundingBox())?.x ?? -1;
  const panelX = (await page.locator('[data-testid="map-scroll"]').boundingBox())?.x ?? -1;
  await page.locator('[data-testid="map-scroll"]').scrollIntoViewIfNeeded();
  await shot(page, "phone-scrolled.png", false);
  await phone.context.close();
  return { pageOverflowPx: overflow, seatPx, booked: "B2", scroll, rowLabelOffsetPx: rowLabelX - panelX };
});

await scenario("states", async () => {
  // A made-up venue through the real UI: several sections, and states the engine may add later (HELD, and
  // one this UI has never heard of). Each must be told apart by more than color: check the patterns too.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const sections = [
    { name: "Stalls", rows: 8, columns: 16 },
    { name: "Circle", rows: 4, columns: 12 },
    { name: "Boxes", rows: 1, columns: 6 },
  ];
  const seats = [];
  let id = 0;
  const statusFor = (n) => (n % 7 === 0 ? "BOOKED" : n % 11 === 0 ? "HELD" : n % 23 === 0 ? "RESALE" : "AVAILABLE");
  for (const sec of sections) {
    for (let r = 0; r < sec.rows; r++) {
      for (let c = 1; c <= sec.columns; c++) {
        id += 1;
        const row = String.fromCharCode(65 + r);
        const status = id === 20 ? "BOOKED" : statusFor(id);
        seats.push({
          seatId: id, seatNumber: `${sec.name}-${row}${c}`, section: sec.name, row, rowIndex: r + 1, column: c,
          status, booked: status === "BOOKED",
          bookedAt: status === "BOOKED" ? "2026-11-25T01:00:00Z" : null, version: 1,
          held: status === "HELD", heldUntil: status === "HELD" ? "2026-11-25T01:05:00Z" : null,
          eventId: 1, category: null, priceCents: null,
        });
      }
    }
  }
  const inventory = {
    layout: {
      sections: sections.map((sec) => ({ name: sec.name, rows: Array.from({ length: sec.rows }, (_, r) => String.fromCharCode(65 + r)), columns: sec.columns })),
      rows: 8, columns: 16, seatCount: seats.length,
    },
    sequence: 0,
    seats,
  };
  await page.route("**/api/v1/seats", (route) => route.fulfill({ json: inventory }));
  // Seat 20 is this session's: the page learns that from /me, never from the seat map.
  const mine = {
    bookingId: 1, seatId: 20, userId: "session:vera", strategy: "ATOMIC", status: "CONFIRMED",
    createdAt: "2026-11-25T01:00:00Z", holdToken: null, cancelledAt: null, cancelledBy: null, cancelReason: null,
  };
  await page.route("**/api/v1/me/bookings**", (route) =>
    route.fulfill({ json: { userId: "session:vera", bookings: [mine], next: null } }),
  );
  await page.routeWebSocket?.("**/ws", () => {}); // keep real events (other seat ids) out of this fake venue
  await page.goto(BASE + "/");
  await page.waitForSelector("button[data-seat-id]");
  await page.waitForSelector("button.seat-mine"); // once the session's bookings are in
  const looks = await page.$$eval("button[data-seat-id]", (els) => {
    const byKind = {};
    for (const el of els) {
      const kind = [...el.classList].find((c) => c.startsWith("seat-") && c !== "seat-selected") ?? "?";
      if (byKind[kind]) continue;
      const style = getComputedStyle(el);
      byKind[kind] = { color: style.backgroundColor, pattern: style.backgroundImage !== "none", icon: el.querySelector("svg") !== null };
    }
    return byKind;
  });
  const headings = await page.$$eval("section[aria-label^='Section'] h3", (els) => els.map((e) => e.textContent));
  const legend = await page.textContent("ul[aria-label='Legend and counts']");
  await shot(page, "states-and-sections.png");
  await context.close();
  return { looks, headings, legend };
});

await scenario("final", async () => {
  // What each page shows at the end; the test compares it with the database.
  if (!LIVE) {
    await alice.page.reload();
    await bob.page.reload();
    await alice.page.waitForSelector("button[data-seat-id]");
    await bob.page.waitForSelector("button[data-seat-id]");
  } else {
    await alice.page.waitForTimeout(500); // let the last events land
  }
  await shot(alice.page, "desktop-final.png");
  return {
    alice: await pageView(alice.page),
    bob: await pageView(bob.page),
    aliceCounts: { booked: await text(alice.page, "count-booked"), available: await text(alice.page, "count-available") },
    status: await alice.page.getAttribute('[data-testid="link-status"]', "data-status"),
  };
});

await browser.close();
clearTimeout(watchdog);
// Exit once the report is flushed (a pipe write is asynchronous); stdin stays open for the driver.
process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
