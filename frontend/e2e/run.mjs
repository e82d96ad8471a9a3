#!/usr/bin/env node
/**
 * End-to-end checks of the buyer's seat map in Debian's headless Chromium (npm playwright-core, no browser
 * download), against a real `boxoffice serve`. Driven by tests/frontend/test_seat_map_e2e.py, which starts the
 * server, creates the events, reads the JSON this prints on its last stdout line, and checks the database.
 *
 *   node e2e/run.mjs --base http://127.0.0.1:8080 --out ../test-artifacts/frontend --jazz 2 --arena 3
 *
 * --jazz: a priced event of two sections (Stalls 10x20 with VIP rows A-B, Balcony 4x16);
 * --arena: a 20,000-seat event in several sections (the performance targets).
 * --gated: an event whose waiting room is enabled with `maxActive` 1 (the waiting scenario); --only: run just
 * these scenarios (comma-separated).
 * The outage scenario needs the driver: this script prints `PAUSE stop` and waits for a line on stdin once the
 * server is down, then `PAUSE start` and waits again once it is back (the answer names a seat booked meanwhile).
 *
 * Every wait is on a condition (never a fixed sleep). Each page is a buyer with its own anonymous session (its
 * own browser context); the report maps page names to the user ids the server gave them, for the DB checks.
 * The page exposes a read-only `window.__boxoffice` (seat states as the page shows them, seat positions on the
 * canvas): the map is a canvas, so that is how a test finds a seat to click.
 */
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    out: { type: "string", default: "test-artifacts/frontend" },
    jazz: { type: "string" },
    arena: { type: "string" },
    "open-air": { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    "chaos-count": { type: "string", default: "50" },
    gated: { type: "string" },
    only: { type: "string" },
  },
});
if (!args.base || !args.jazz || !args.arena) throw new Error("--base, --jazz and --arena are required");
const BASE = args.base.replace(/\/$/, "");
const OUT = args.out;
const JAZZ = Number(args.jazz);
const ARENA = Number(args.arena);
const OPEN_AIR = args["open-air"] ? Number(args["open-air"]) : null;
const CHAOS_N = Number(args["chaos-count"]);
const GATED = args.gated ? Number(args.gated) : null;
const ONLY = args.only ? new Set(args.only.split(",")) : null;
const WATCHDOG_MS = 420_000;

const log = (...a) => console.error("[e2e]", ...a);
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function driver(request) {
  console.log(`PAUSE ${request}`);
  const answer = await stdin.next();
  if (answer.done) throw new Error(`driver went away during "${request}"`);
  return answer.value.trim();
}
const result = { scenarios: {}, console: [], users: {} };
const watchdog = setTimeout(() => {
  console.error("[e2e] watchdog: giving up after", WATCHDOG_MS, "ms");
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(3));
}, WATCHDOG_MS);

await mkdir(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  timeout: 30_000,
});

// Generous: the machine running this may be shared and busy; nothing here waits longer than it must.
const ready = (page, timeout = 30_000) => page.waitForFunction(() => window.__boxoffice?.ready?.() === true, null, { timeout });
const live = (page) => page.waitForSelector('[data-testid="link-status"][data-status="live"]', { timeout: 20_000 });

/** A page in its own context (own localStorage, so its own session), called `user` in the report. */
async function openPage(user, path, viewport = { width: 1280, height: 900 }, extra = {}) {
  const context = await browser.newContext({ viewport, ...extra });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (m) => {
    if (m.type() === "error" && result.console.length < 50) result.console.push(`${user}: ${m.text()}`);
  });
  page.on("pageerror", (e) => result.console.push(`${user}: pageerror ${e.message}`));
  if (extra.beforeGoto) await extra.beforeGoto(page);
  await page.goto(BASE + path, { waitUntil: "domcontentloaded" });
  await ready(page, extra.readyTimeout ?? 30_000);
  await live(page);
  await page.waitForSelector('[data-testid="session-status"][data-ready="true"]', { timeout: 10_000 });
  const userId = await page.evaluate(() => JSON.parse(window.localStorage.getItem("boxoffice.session")).userId);
  result.users[user] = userId;
  return { page, context, userId };
}

const shot = (page, name, fullPage = false) => page.screenshot({ path: join(OUT, name), fullPage, animations: "disabled" });
const seat = (page, n) => page.evaluate((n) => window.__boxoffice.seat(n), n);
const kindIs = (page, n, kinds, timeout = 10_000) =>
  page.waitForFunction(
    ([n, kinds]) => kinds.includes(window.__boxoffice.seat(n)?.kind),
    [n, [].concat(kinds)],
    { timeout, polling: "raf" },
  );
const visible = (page, testId) => page.locator(`[data-testid="${testId}"]:visible`).first();
const text = async (page, testId) => ((await visible(page, testId).textContent()) ?? "").trim();

/** Click (or tap) a seat on the canvas, zooming in first so it is at least `minPx` on screen. */
async function clickSeat(page, n, { tap = false, minPx = 24 } = {}) {
  const p = await page.evaluate(([n, minPx]) => window.__boxoffice.point(n, minPx), [n, minPx]);
  if (!p) throw new Error(`seat ${n} not on the map`);
  if (tap) await page.touchscreen.tap(p.x, p.y);
  else await page.mouse.click(p.x, p.y);
  return p;
}

async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target }));
  });
  return { page: name, serious: found.filter((v) => v.impact === "serious" || v.impact === "critical"), all: found.map((v) => `${v.id}:${v.impact}`) };
}

async function scenario(name, fn) {
  if (ONLY && !ONLY.has(name)) return;
  const started = Date.now();
  try {
    result.scenarios[name] = { ok: true, ...(await fn()), ms: Date.now() - started };
  } catch (err) {
    result.scenarios[name] = { ok: false, error: String(err?.stack ?? err), ms: Date.now() - started };
  }
  log(name, JSON.stringify(result.scenarios[name]).slice(0, 2000));
}

async function apiPost(path, body, headers = {}) {
  const r = await fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}
const seatIdOf = (page, n) => page.evaluate((n) => window.__boxoffice.seat(n)?.seatId, n);

const jazzPath = `/?event=${JAZZ}`;
const alice = ONLY ? null : await openPage("alice", jazzPath); // --only: the pages of the scenarios asked for
const bob = ONLY ? null : await openPage("bob", jazzPath);

await scenario("load", async () => {
  const page = alice.page;
  await shot(page, "desktop-initial.png");
  const title = await text(page, "event-title");
  const legend = await text(page, "legend");
  const total = await text(page, "count-total");
  const a11y = await axe(page, "desktop");
  return { title, legend, total, axe: a11y };
});

const BASKET = ["Stalls-A5", "Stalls-A6", "Stalls-C3"];
await scenario("buyer", async () => {
  const page = alice.page;
  for (const n of BASKET) {
    await clickSeat(page, n);
    await kindIs(page, n, "selected");
  }
  // A click on a basket seat takes it out again; a second click puts it back.
  await clickSeat(page, "Stalls-C3");
  await kindIs(page, "Stalls-C3", "available");
  await clickSeat(page, "Stalls-C3");
  await kindIs(page, "Stalls-C3", "selected");
  const lines = await page.locator('[data-testid="basket-line"]:visible').allTextContents();
  const total = await text(page, "basket-total");
  const hover = await (async () => {
    const p = await page.evaluate(() => window.__boxoffice.point("Stalls-B7", 24));
    await page.mouse.move(p.x, p.y);
    await page.waitForSelector('[data-testid="seat-tooltip"]');
    return text(page, "seat-tooltip");
  })();
  await shot(page, "basket.png");

  await visible(page, "hold-button").click();
  await page.waitForSelector('[data-testid="hold-countdown"]:visible');
  for (const n of BASKET) await kindIs(page, n, "myhold");
  const countdownStart = Number(await visible(page, "hold-countdown").getAttribute("data-seconds"));
  // The countdown runs: wait for it to tick down by two seconds, then extend and see it go back up.
  await page.waitForFunction(
    (s) => Number(document.querySelector('[data-testid="hold-countdown"]')?.dataset.seconds) <= s - 2,
    countdownStart,
    { timeout: 8000 },
  );
  const beforeExtend = Number(await visible(page, "hold-countdown").getAttribute("data-seconds"));
  await visible(page, "extend-button").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="basket-message"]')?.textContent?.includes("extended"));
  const afterExtend = Number(await visible(page, "hold-countdown").getAttribute("data-seconds"));
  const countdownText = await text(page, "hold-countdown");
  await shot(page, "hold-countdown.png");
  // Bob sees the held seats as unavailable, never as whose.
  for (const n of BASKET) await kindIs(bob.page, n, "held");

  // A double click on Confirm: fired twice in the same task, before React can re-render the button.
  await page.evaluate(() => {
    const b = [...document.querySelectorAll('[data-testid="confirm-button"]')].find((e) => e.offsetParent !== null);
    b.click();
    b.click();
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="basket-message"]')?.dataset.kind === "success" &&
    document.querySelector('[data-testid="basket-message"]')?.textContent?.includes("Booked"));
  for (const n of BASKET) await kindIs(page, n, "mine");
  for (const n of BASKET) await kindIs(bob.page, n, "booked");
  const messages = await page.locator('[data-testid="basket-message"]:visible').allTextContents();
  const toasts = await page.locator('[data-testid="toast"]').allTextContents();
  await shot(page, "confirmed.png");
  await page.locator("#my-tickets").scrollIntoViewIfNeeded();
  const tickets = await page.locator('[data-testid="ticket"]').count();
  const bobPage = (await bob.page.content()) + (await bob.page.evaluate(() => JSON.stringify(window.localStorage)));
  return {
    seats: BASKET, lines, total, hover, countdownStart, beforeExtend, afterExtend, countdownText, messages,
    bookedToasts: toasts.filter((t) => t.includes("Booked")).length, tickets, bobSeesAlice: bobPage.includes(alice.userId),
  };
});

await scenario("cancel", async () => {
  const page = alice.page;
  const id = await seatIdOf(page, "Stalls-C3");
  const row = page.locator(`[data-testid="ticket"][data-seat-id="${id}"]`);
  await row.locator('[data-testid="cancel-ticket"]').click();
  await row.locator('[data-testid="cancel-confirm"]').click();
  await row.waitFor({ state: "detached" });
  await kindIs(page, "Stalls-C3", "available");
  await kindIs(bob.page, "Stalls-C3", "available");
  await page.locator("#my-tickets").scrollIntoViewIfNeeded();
  await shot(page, "my-tickets-after-cancel.png");
  return { cancelled: "Stalls-C3", tickets: await page.locator('[data-testid="ticket"]').count() };
});

await scenario("taken", async () => {
  // Alice has D1 and D2 in her basket; bob holds D2 from his page: it leaves alice's basket with a message.
  const page = alice.page;
  await clickSeat(page, "Stalls-D1");
  await clickSeat(page, "Stalls-D2");
  await kindIs(page, "Stalls-D2", "selected");
  await clickSeat(bob.page, "Stalls-D2");
  await kindIs(bob.page, "Stalls-D2", "selected");
  await visible(bob.page, "hold-button").click();
  await kindIs(bob.page, "Stalls-D2", "myhold");
  await page.waitForFunction(() => document.querySelector('[data-testid="basket-message"]')?.textContent?.includes("taken"));
  const message = await text(page, "basket-message");
  const role = await visible(page, "basket-message").getAttribute("role");
  const lines = await page.locator('[data-testid="basket-line"]:visible').allTextContents();
  const d2 = await seat(page, "Stalls-D2");
  await shot(page, "basket-seat-taken.png");
  await visible(bob.page, "release-button").click();
  await kindIs(bob.page, "Stalls-D2", ["available", "selected"]);
  await visible(page, "hold-button").isVisible();
  // Leave alice's basket empty for what follows.
  await clickSeat(page, "Stalls-D1");
  await kindIs(page, "Stalls-D1", "available");
  return { message, role, lines, d2Kind: d2?.kind };
});

await scenario("conflict409", async () => {
  // Carol's page does not hear live updates (its socket's messages are held back), so her map still shows a
  // seat free after a walk-in booked it: her hold is answered 409, naming that seat; the other stays.
  let muted = false;
  const carol = await openPage("carol", jazzPath, undefined, {
    beforeGoto: (page) =>
      page.routeWebSocket("**/ws", (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
          if (!muted || !String(m).startsWith("MESSAGE")) ws.send(m);
        });
      }),
  });
  const page = carol.page;
  await clickSeat(page, "Stalls-E1");
  await clickSeat(page, "Stalls-E2");
  await kindIs(page, "Stalls-E2", "selected");
  muted = true;
  const e2 = await seatIdOf(page, "Stalls-E2");
  const walkIn = await apiPost("/api/v1/bookings", { seatId: e2, userId: "walk-in-409" });
  const stillFree = (await seat(page, "Stalls-E2"))?.status;
  await visible(page, "hold-button").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="basket-message"]')?.dataset.kind === "error");
  const message = await text(page, "basket-message");
  const lines = await page.locator('[data-testid="basket-line"]:visible').allTextContents();
  await shot(page, "conflict-409.png");
  muted = false;
  await carol.context.close();
  return { walkIn: walkIn.status, stillFreeOnCarolsMap: stillFree, message, lines };
});

await scenario("events", async () => {
  // Switching events by link and by the picker: the map, the snapshot and the live topic follow.
  const page = bob.page;
  await page.goto(`${BASE}/?event=1`);
  await ready(page);
  await live(page);
  const first = await text(page, "event-title");
  const onDefault = await page.evaluate(() => window.__boxoffice.eventId);
  // A booking in event 1 shows live on this page.
  const n = (await page.evaluate(() => window.__boxoffice.availableSeats(1)))[0];
  const id = await seatIdOf(page, n);
  const booked = await apiPost("/api/v1/bookings", { seatId: id, userId: "walk-in-ev1" });
  await kindIs(page, n, "booked");
  await shot(page, "event-default.png");
  await page.selectOption('[data-testid="event-picker"]', String(JAZZ));
  await page.waitForFunction((j) => window.__boxoffice?.eventId === j && window.__boxoffice.ready(), JAZZ);
  await live(page);
  const url = page.url();
  const second = await text(page, "event-title");
  await page.goBack();
  await page.waitForFunction(() => window.__boxoffice?.eventId === 1 && window.__boxoffice.ready());
  const afterBack = await text(page, "event-title");
  await page.goto(`${BASE}/?event=${JAZZ}`);
  await ready(page);
  await live(page);
  return { first, onDefault, seat: n, bookedStatus: booked.status, url, second, afterBack };
});

await scenario("big", async () => {
  // 20,000 seats: main-thread CPU of the first render (Chromium's TaskDuration over the load), a burst of
  // 1,000 changes (no long task over 100 ms wanted), and a booking's delay to another tab.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => result.console.push(`arena: pageerror ${e.message}`));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const metrics = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  const started = Date.now();
  await page.goto(`${BASE}/?event=${ARENA}`, { waitUntil: "domcontentloaded" });
  await ready(page, 90_000);
  const wallMs = Date.now() - started;
  const after = await metrics();
  const firstRenderCpuMs = Math.round((after.TaskDuration - before.TaskDuration) * 1000);
  const scriptMs = Math.round((after.ScriptDuration - before.ScriptDuration) * 1000);
  await live(page);
  const stats = await page.evaluate(() => window.__boxoffice.stats());
  await shot(page, "arena-20000.png");
  const a11y = await axe(page, "arena");

  // Drill down: the section overview zooms to one section.
  await page.click('[data-testid="section-Upper"]');
  await shot(page, "arena-section-upper.png");
  await page.click('[data-testid="fit"]');

  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
    }).observe({ type: "longtask", buffered: false });
  });
  const targets = await page.evaluate(() => window.__boxoffice.availableSeats(1000, "North"));
  const ids = await page.evaluate((ns) => ns.map((n) => window.__boxoffice.seat(n).seatId), targets);
  const resyncsBefore = (await page.evaluate(() => window.__boxoffice.stats())).resyncs;
  const burstStarted = Date.now();
  // 100 all-or-nothing orders of 10 seats each, by 100 buyers (the per-buyer cap is 10).
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => apiPost("/api/v1/bookings", { seatIds: ids.slice(i * 10, i * 10 + 10), userId: `burst-${i}` })),
  );
  const okIds = answers.flatMap((a, i) => (a.status === 201 ? ids.slice(i * 10, i * 10 + 10) : []));
  const otherAnswers = {};
  for (const a of answers) if (a.status !== 201) otherAnswers[a.status] = (otherAnswers[a.status] ?? 0) + 1;
  await page.waitForFunction(
    (want) => want.every((id) => window.__boxoffice.seatById(id)?.status === "BOOKED"),
    okIds,
    { timeout: 30_000, polling: 100 },
  );
  const burstConvergedMs = Date.now() - burstStarted;
  const longTasks = await page.evaluate(() => window.__longTasks);
  const statsAfter = await page.evaluate(() => window.__boxoffice.stats());
  await shot(page, "arena-after-burst.png");

  // A booking made in one tab, seen in another: from the click to the seat changing on the other page.
  const other = await openPage("dora", `/?event=${ARENA}`, undefined, { readyTimeout: 90_000 });
  const n = (await page.evaluate(() => window.__boxoffice.availableSeats(1, "South")))[0];
  await page.evaluate((n) => {
    window.__seenAt = null;
    const check = () => {
      if (window.__boxoffice.seat(n)?.status !== "AVAILABLE") window.__seenAt = Date.now();
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, n);
  const sid = await seatIdOf(page, n);
  const token = await other.page.evaluate(() => JSON.parse(localStorage.getItem("boxoffice.session")).token);
  const clickedAt = Date.now();
  const single = await apiPost("/api/v1/holds", { seatIds: [sid] }, { Authorization: `Bearer ${token}` });
  await page.waitForFunction(() => window.__seenAt !== null, null, { timeout: 5000 });
  const secondTabMs = (await page.evaluate(() => window.__seenAt)) - clickedAt;
  await other.context.close();
  await context.close();
  return {
    seats: stats.seatsDrawn === undefined ? null : stats,
    firstRenderCpuMs, firstRenderScriptMs: scriptMs, firstRenderWallMs: wallMs,
    burst: { orders: 100, seatsBooked: okIds.length, otherAnswers, convergedMs: burstConvergedMs, longTasks: longTasks.length,
      longestTaskMs: Math.max(0, ...longTasks), resyncs: statsAfter.resyncs - resyncsBefore, partialDraws: statsAfter.partialDraws, fullDraws: statsAfter.fullDraws },
    secondTab: { status: single.status, ms: secondTabMs },
    axe: a11y,
  };
});

await scenario("keyboard", async () => {
  // Keyboard only: Tab to the map, Page Down to the last section, arrows, Enter; Tab to Hold, Enter; Tab to
  // Confirm, Enter.
  const { page, context } = await openPage("kim", jazzPath);
  let tabs = 0;
  const active = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
  while (tabs < 40 && (await active()) !== "seat-map") {
    await page.keyboard.press("Tab");
    tabs += 1;
  }
  if ((await active()) !== "seat-map") throw new Error("Tab never reached the seat map");
  const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== "none");
  await page.keyboard.press("PageDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  const focused = await page.evaluate(() => Number(document.querySelector('[data-testid="seat-map"]').dataset.focusedSeat));
  const target = await page.evaluate((id) => window.__boxoffice.seatById(id), focused);
  const announced = await text(page, "seat-announce");
  await page.keyboard.press("Enter");
  await kindIs(page, target.seatNumber, "selected");
  await shot(page, "keyboard-focus.png");
  const tabTo = async (testId) => {
    for (let i = 0; i < 40 && (await active()) !== testId; i++) await page.keyboard.press("Tab");
    if ((await active()) !== testId) throw new Error(`Tab never reached ${testId}`);
  };
  await tabTo("hold-button");
  await page.keyboard.press("Enter");
  await kindIs(page, target.seatNumber, "myhold");
  await page.keyboard.press("Shift+Tab");
  await tabTo("confirm-button");
  await page.keyboard.press("Enter");
  await kindIs(page, target.seatNumber, "mine");
  // Type to find: "row C seat 12".
  await page.fill('[data-testid="find-seat"]', "Stalls row C seat 12");
  await page.press('[data-testid="find-seat"]', "Enter");
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "seat-map");
  const found = await page.evaluate(() => window.__boxoffice.seatById(Number(document.querySelector('[data-testid="seat-map"]').dataset.focusedSeat)));
  await shot(page, "keyboard-find.png");
  await context.close();
  return { tabs, focusVisible, seat: target.seatNumber, announced, found: found?.seatNumber };
});

await scenario("phone", async () => {
  const { page, context } = await openPage("phoebe", jazzPath, { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const mapTop = (await page.locator('[data-testid="seat-map"]').boundingBox()).y;
  const footer = await page.locator('[data-testid="basket-footer"]').boundingBox();
  const footerPosition = await page.$eval('[data-testid="basket-footer"]', (e) => getComputedStyle(e).position);
  // A tap on a seat smaller than 24 px zooms in first; then the seat is a >= 24 px target.
  const small = await page.evaluate(() => window.__boxoffice.point("Balcony-B8", 0));
  await page.touchscreen.tap(small.x, small.y);
  const tapped = await clickSeat(page, "Balcony-B8", { tap: true, minPx: 24 });
  await kindIs(page, "Balcony-B8", "selected");
  await shot(page, "phone.png");
  await visible(page, "hold-button").tap();
  await kindIs(page, "Balcony-B8", "myhold");
  await visible(page, "confirm-button").tap();
  await kindIs(page, "Balcony-B8", "mine");
  await shot(page, "phone-booked.png");
  await shot(page, "phone-full.png", true);
  const a11y = await axe(page, "phone");
  await context.close();
  return { pageOverflowPx: overflow, mapTop, footerTop: footer.y, footerBottom: footer.y + footer.height, footerPosition, firstTapSeatPx: small.size, seatPx: tapped.size, axe: a11y };
});

await scenario("chaos", async () => {
  const page = alice.page;
  await page.goto(`${BASE}/?event=1`);
  await ready(page);
  await live(page);
  await page.click('[data-testid="demo-toggle"]');
  await page.click('[data-testid="chaos-toggle"]', { force: true });
  const n = (await page.evaluate(() => window.__boxoffice.availableSeats(1)))[0];
  await clickSeat(page, n);
  await page.fill('[data-testid="chaos-count"]', String(CHAOS_N));
  await page.click('[data-testid="chaos-fire"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="chaos-result"]')?.textContent?.includes("Winner") && !document.querySelector('[data-testid="chaos-fire"]')?.disabled,
    null,
    { timeout: 60_000 },
  );
  const run = {
    seat: n,
    winners: Number(await text(page, "chaos-winners")),
    conflicts: Number(await text(page, "chaos-conflicts")),
    errors: Number(await text(page, "chaos-errors")),
    winner: await text(page, "chaos-winner"),
  };
  await shot(page, "engine-demo.png");
  await page.click('[data-testid="chaos-toggle"]', { force: true });
  await page.click('[data-testid="demo-close"]');
  await page.goto(BASE + jazzPath);
  await ready(page);
  await live(page);
  return { requests: CHAOS_N, run };
});

await scenario("inventory", async () => {
  // Blocked seats, wheelchair spaces, a GA area and best available, on an event laid out with them.
  if (OPEN_AIR === null) return { skipped: "no --open-air event" };
  const { page, context } = await openPage("ines", `/?event=${OPEN_AIR}`);
  const blocked = await seat(page, "Stalls-A8");
  const wheelchair = await seat(page, "Stalls-H1");
  const legend = await text(page, "legend");
  await page.fill('[data-testid="best-quantity"]', "3");
  await page.click('[data-testid="best-hold"]');
  await page.waitForSelector('[data-testid="hold-countdown"]:visible');
  const bestLines = await page.locator('[data-testid="basket-line"]:visible').allTextContents();
  await shot(page, "inventory-best-available.png", true);
  await visible(page, "confirm-button").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="basket-message"]')?.textContent?.includes("Booked"));
  const before = Number(await page.locator('[data-testid="ga-available"]').textContent());
  await page.locator('[data-testid="ga-area"] input').fill("2");
  await page.locator('[data-testid="ga-area"] button').click();
  await page.waitForSelector('[data-testid="hold-countdown"]:visible');
  const gaLines = await page.locator('[data-testid="basket-line"]:visible').allTextContents();
  await visible(page, "confirm-button").click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="ga-available"]')?.textContent) === n, before - 2);
  await shot(page, "inventory-ga.png", true);
  const a11y = await axe(page, "inventory");
  await context.close();
  return { blocked: blocked?.kind, wheelchair: wheelchair?.kind, legend, bestLines, gaBefore: before, gaLines, axe: a11y };
});

await scenario("first-load-503", async () => {
  // A first load while the API answers 503 with Retry-After: a proper page says so and recovers by itself.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let failing = true;
  await page.route("**/api/v1/**", (route) =>
    failing
      ? route.fulfill({ status: 503, headers: { "Retry-After": "1", "Content-Type": "application/json" }, body: JSON.stringify({ timestamp: new Date().toISOString(), status: 503, error: "STARTING", message: "Starting up", path: "/api/v1" }) })
      : route.continue(),
  );
  await page.goto(BASE + jazzPath);
  await page.waitForSelector('[data-testid="map-loading"] button');
  const shown = await text(page, "map-loading");
  await shot(page, "first-load-503.png");
  failing = false;
  const back = Date.now();
  await ready(page);
  const recoveredMs = Date.now() - back;
  await context.close();
  return { shown, recoveredMs };
});

await scenario("outage", async () => {
  const page = alice.page;
  await clickSeat(page, "Stalls-F1");
  await kindIs(page, "Stalls-F1", "selected");
  await driver("stop");
  await page.waitForSelector('[data-testid="server-banner"]', { timeout: 15_000 });
  const banner = await text(page, "server-banner");
  const holdDisabled = await visible(page, "hold-button").isDisabled();
  const status = await page.getAttribute('[data-testid="link-status"]', "data-status");
  await shot(page, "server-down.png");
  const seat = await driver("start");
  const back = Date.now();
  await page.waitForSelector('[data-testid="link-status"][data-status="live"]', { timeout: 20_000 });
  const liveMs = Date.now() - back;
  await page.waitForSelector('[data-testid="server-banner"]', { state: "detached", timeout: 10_000 });
  await kindIs(page, seat, "booked", 10_000);
  const holdEnabled = !(await visible(page, "hold-button").isDisabled());
  await clickSeat(page, "Stalls-F1");
  await kindIs(page, "Stalls-F1", "available");
  await shot(page, "server-back.png");
  return { banner, holdDisabled, statusDuringOutage: status, seat, liveMs, holdEnabled };
});

await scenario("waiting", async () => {
  // A gated on-sale with room for one buyer at a time: a walk-in visitor holds the only admission, so the page
  // waits in the queue (map shown, booking closed); when the walk-in leaves, the page is admitted and holds a
  // seat with its Admission-Token. Without the token the same session cannot hold. Once the page confirms
  // its hold, it gives its turn back (POST .../leave) and says the turn is over.
  if (GATED === null) return { skipped: "no --gated event" };
  const base = `/api/v1/events/${GATED}/waiting-room`;
  const walkIn = (await apiPost("/api/v1/sessions", {})).body;
  const walkInAuth = { Authorization: `Bearer ${walkIn.token}` };
  const walkInJoin = await apiPost(`${base}/join`, {}, walkInAuth);
  let walkInState = walkInJoin.body?.state;
  for (let i = 0; i < 600 && walkInState !== "ADMITTED"; i++) {
    const r = await fetch(`${BASE}${base}/me`, { headers: walkInAuth, signal: AbortSignal.timeout(30_000) });
    walkInState = (await r.json()).state;
    if (walkInState !== "ADMITTED") await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval
  }
  if (walkInState !== "ADMITTED") throw new Error(`the walk-in was never admitted (${walkInState})`);

  const { page, context, userId } = await openPage("wanda", `/?event=${GATED}`);
  const gate = (state) => page.waitForSelector(`[data-testid="waiting-room"][data-gate="${state}"]`, { timeout: 60_000 });
  await gate("queue");
  await page.waitForFunction(() => document.querySelector('[data-testid="waiting-room"]')?.textContent?.includes("Position"), null, { timeout: 60_000 });
  const waitingText = await text(page, "waiting-room");
  const n = (await page.evaluate(() => window.__boxoffice.availableSeats(1)))[0];
  await clickSeat(page, n);
  await kindIs(page, n, "selected");
  const holdDisabledWhileWaiting = await visible(page, "hold-button").isDisabled();
  const pausedText = (await page.getByText("Booking opens when it is your turn in the queue.", { exact: true }).first().textContent()) ?? "";
  const bestHoldDisabledWhileWaiting = await visible(page, "best-hold").isDisabled();
  await shot(page, "waiting.png");

  const left = await apiPost(`${base}/leave`, {}, walkInAuth);
  await gate("admitted");
  await page.waitForFunction(() => {
    const b = [...document.querySelectorAll('[data-testid="hold-button"]')].find((e) => e.offsetParent !== null);
    return b && !b.disabled;
  }, null, { timeout: 60_000 });
  const admittedText = await text(page, "waiting-room");
  const holdAnswer = page.waitForResponse((r) => r.url().endsWith("/api/v1/holds") && r.request().method() === "POST", { timeout: 60_000 });
  await visible(page, "hold-button").click();
  const response = await holdAnswer;
  const holdHeaders = await response.request().allHeaders();
  await kindIs(page, n, "myhold", 30_000);
  const seatId = await seatIdOf(page, n);
  await shot(page, "admitted.png");

  // The same session, another seat, no Admission-Token: refused.
  const other = (await page.evaluate(() => window.__boxoffice.availableSeats(1)))[0];
  const otherId = await seatIdOf(page, other);
  const without = await page.evaluate(async (seatIds) => {
    const token = JSON.parse(localStorage.getItem("boxoffice.session")).token;
    const r = await fetch("/api/v1/holds", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ seatIds }),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [otherId]);

  // Confirm the hold: the page then leaves the room by itself.
  const leaveCall = page.waitForResponse((r) => r.url().endsWith(`${base}/leave`) && r.request().method() === "POST", { timeout: 60_000 });
  const confirmAnswer = page.waitForResponse((r) => r.url().endsWith("/api/v1/bookings") && r.request().method() === "POST", { timeout: 60_000 });
  await visible(page, "confirm-button").click();
  const confirmed = await confirmAnswer;
  const leaving = await leaveCall;
  const leftBody = await leaving.json().catch(() => null);
  await kindIs(page, n, "mine", 30_000);
  await gate("closed");
  const afterPurchaseText = await text(page, "waiting-room");
  await shot(page, "after-purchase.png");
  await context.close();
  return {
    walkIn: walkIn.userId, walkInJoin: walkInJoin.status, leave: left.status, user: userId, waitingText, holdDisabledWhileWaiting,
    bestHoldDisabledWhileWaiting, pausedText, admittedText, seat: n, seatId, hold: { status: response.status(), admissionToken: Boolean(holdHeaders["admission-token"]) },
    withoutToken: { status: without.status, error: without.body?.error, seatId: otherId },
    confirm: confirmed.status(), pageLeft: { status: leaving.status(), state: leftBody?.state }, afterPurchaseText,
  };
});

await scenario("final", async () => {
  // What the pages show at the end; the test compares it with the database.
  await alice.page.goto(BASE + jazzPath);
  await ready(alice.page);
  await live(alice.page);
  await live(bob.page);
  // Wait until bob's live view equals alice's fresh snapshot (a condition, not a sleep).
  const want = await alice.page.evaluate(() => window.__boxoffice.view());
  await bob.page.waitForFunction((w) => {
    const v = window.__boxoffice.view();
    return Object.entries(w).every(([k, s]) => v[k] === s);
  }, want, { timeout: 10_000, polling: 100 }).catch(() => {});
  await shot(alice.page, "desktop-final.png");
  return { alice: want, bob: await bob.page.evaluate(() => window.__boxoffice.view()) };
});

await browser.close();
clearTimeout(watchdog);
process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
