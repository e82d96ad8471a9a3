/**
 * Wire shapes of the Box Office API (camelCase JSON) under the names the UI uses.
 *
 * The HTTP shapes are aliases of ./api-types.ts, generated from the backend's OpenAPI document
 * (`scripts/openapi`; tests fail when either file is stale), so they cannot drift from the server.
 * Only what that document does not describe is written by hand below: the STOMP messages. Add the
 * names of other generated shapes here when the UI starts to use them.
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
 * Hand-written (STOMP, not in the OpenAPI document): one `/topic/seats` message, the seat as it is
 * now (the same JSON as a Seat) plus its place in the global change order.
 */
export interface SeatEvent extends Seat {
  sequence: number;
  /**
   * The sequence of the previous change on the same topic (event). A topic skips other events'
   * sequence values, so this, not `sequence - 1`, says whether something was missed.
   * Absent from servers that predate per-event topics.
   */
  prevSequence?: number;
  /** A general-admission ticket's change carries its area's public count (null for reserved seats). */
  areaAvailable?: number | null;
}
