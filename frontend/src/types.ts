/**
 * Wire shapes of the Box Office API (camelCase JSON) under the names the UI uses.
 *
 * The HTTP and STOMP shapes are aliases of ./api-types.ts, generated from the backend's OpenAPI document
 * (`scripts/openapi`; tests fail when either file is stale), so they cannot drift from the server.
 * That document also carries the STOMP message bodies (components only, no route answers with them).
 * Add the names of other generated shapes here when the UI starts to use them.
 */
import type { components } from "./api-types";

type Schemas = components["schemas"];

export type Strategy = Schemas["Strategy"];
/** Every strategy exactly once, in display order: tsc fails if the backend adds or drops one. */
const STRATEGY_SET: Record<Strategy, true> = { DB: true, REDIS: true, ATOMIC: true };
export const STRATEGIES = Object.keys(STRATEGY_SET) as readonly Strategy[];

/** `status` is an open string on the wire (AVAILABLE, BOOKED, HELD today); `held`/`heldUntil` describe a live hold. */
export type Seat = Schemas["SeatOut"];
export type Section = Schemas["SectionOut"];
export type Layout = Schemas["LayoutOut"];
export type Inventory = Schemas["InventoryOut"];
export type Booking = Schemas["BookingOut"];
export type Session = Schemas["SessionOut"];
export type MyBookings = Schemas["MyBookingsOut"];
export type ApiErrorBody = Schemas["ErrorOut"];
export type BookingRecord = Schemas["BookingRecordOut"];
export type BookingsResult = Schemas["BookingsOut"];
export type Cancellation = Schemas["CancellationOut"];
export type EventInfo = Schemas["EventOut"];
export type EventList = Schemas["EventListOut"];
export type EventInventory = Schemas["EventInventoryOut"];
export type Hold = Schemas["HoldOut"];
export type MyHolds = Schemas["MyHoldsOut"];
export type Area = Schemas["AreaOut"];

/**
 * One STOMP MESSAGE body on `/topic/events/{eventId}/seats` (generated like the HTTP shapes): the seat
 * as it is now plus its place in the global change order. `prevSequence` is the sequence of the
 * previous change on the same topic (a topic skips other events' sequence values, so it, not
 * `sequence - 1`, says whether something was missed); `areaAvailable` is a GA ticket's area count
 * (null for reserved seats). The server always sends both; the UI also accepts a message without them
 * (a server that predates per-event topics), so they are optional here.
 */
export type SeatChange = Schemas["SeatChangeOut"];
export type SeatEvent = Omit<SeatChange, "prevSequence" | "areaAvailable"> &
  Partial<Pick<SeatChange, "prevSequence" | "areaAvailable">>;
