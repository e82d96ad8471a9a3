import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { initialSeatState, seatReducer, type SeatState } from "../seatStore";
import { bookedEvent, makeInventory, seatOf } from "../test/fixtures";
import type { Inventory, Seat } from "../types";
import { SeatMap } from "./SeatMap";

function live(inventory: Inventory): SeatState {
  return seatReducer(seatReducer(initialSeatState, { type: "resync", generation: 1 }), {
    type: "snapshot",
    generation: 1,
    inventory,
  });
}

const seatButton = (name: RegExp | string) => screen.getByRole("button", { name });

describe("SeatMap", () => {
  it("draws the layout the API describes: sections, row labels and columns", () => {
    const inv = makeInventory([
      { name: "Stalls", rows: 2, columns: 3 },
      { name: "Balcony", rows: 1, columns: 5 },
    ]);
    const state = live(inv);
    render(<SeatMap layout={state.layout!} seats={state.seats} mine={new Set()} onActivate={() => {}} />);
    const stalls = screen.getByRole("group", { name: "Seats in section Stalls" });
    const balcony = screen.getByRole("group", { name: "Seats in section Balcony" });
    expect(within(stalls).getAllByRole("button")).toHaveLength(6);
    expect(within(balcony).getAllByRole("button")).toHaveLength(5);
    expect(screen.getByRole("heading", { name: "Balcony" })).toBeInTheDocument();
    expect(seatButton("Seat Balcony-A5, row A, number 5, available")).toHaveAttribute("data-status", "AVAILABLE");
    // The CSS grid gets its column count from the layout, not a constant.
    expect(balcony.style.getPropertyValue("--cols")).toBe("5");
  });

  it("labels every state for screen readers and marks it with a pattern class and an icon", () => {
    const inv = makeInventory([{ name: "Main", rows: 1, columns: 5 }]);
    const [a1, a2, a3, a4] = inv.seats;
    inv.seats[0] = { ...a1!, status: "BOOKED", booked: true };
    inv.seats[1] = { ...a2!, status: "BOOKED", booked: true };
    inv.seats[2] = { ...a3!, status: "HELD" };
    inv.seats[3] = { ...a4!, status: "WAITLISTED" };
    const state = live(inv);
    render(<SeatMap layout={state.layout!} seats={state.seats} mine={new Set([a2!.seatId])} onActivate={() => {}} />);
    const cases: [string, string, boolean][] = [
      ["Seat A1, row A, number 1, booked", "seat-booked", true],
      ["Seat A2, row A, number 2, booked by you", "seat-mine", true],
      ["Seat A3, row A, number 3, held", "seat-held", true],
      ["Seat A4, row A, number 4, waitlisted", "seat-other", true],
      ["Seat A5, row A, number 5, available", "seat-available", false],
    ];
    for (const [name, cls, icon] of cases) {
      const button = seatButton(name);
      expect(button).toHaveClass(cls);
      expect(button.querySelector("svg") !== null).toBe(icon);
    }
  });

  it("books on click and on Enter, and moves focus with the arrow keys (one tab stop)", async () => {
    const user = userEvent.setup();
    const inv = makeInventory([{ name: "Main", rows: 3, columns: 3 }]);
    const state = live(inv);
    const onActivate = vi.fn<(seat: Seat) => void>();
    render(
      <>
        <button type="button">before</button>
        <SeatMap layout={state.layout!} seats={state.seats} mine={new Set()} onActivate={onActivate} />
      </>,
    );
    const tabbable = screen.getAllByRole("button").filter((b) => b.tabIndex === 0 && b.dataset.seatId);
    expect(tabbable).toHaveLength(1);

    await user.tab();
    await user.tab();
    expect(document.activeElement).toBe(seatButton(/^Seat A1,/));
    await user.keyboard("{ArrowRight}{ArrowDown}{ArrowDown}");
    expect(document.activeElement).toBe(seatButton(/^Seat C2,/));
    await user.keyboard("{ArrowDown}"); // the edge: stays put
    expect(document.activeElement).toBe(seatButton(/^Seat C2,/));
    await user.keyboard("{End}");
    expect(document.activeElement).toBe(seatButton(/^Seat C3,/));
    await user.keyboard("{Home}{ArrowUp}");
    expect(document.activeElement).toBe(seatButton(/^Seat B1,/));
    expect(seatButton(/^Seat B1,/).tabIndex).toBe(0);
    expect(seatButton(/^Seat A1,/).tabIndex).toBe(-1);

    await user.keyboard("{Enter}");
    expect(onActivate).toHaveBeenLastCalledWith(expect.objectContaining({ seatNumber: "B1" }));
    await user.click(seatButton(/^Seat C3,/));
    expect(onActivate).toHaveBeenLastCalledWith(expect.objectContaining({ seatNumber: "C3" }));
    expect(onActivate).toHaveBeenCalledTimes(2);
  });

  it("re-renders only the seats that changed on a 2,000-seat map", () => {
    const inv = makeInventory([{ name: "Main", rows: 40, columns: 50 }], 0);
    const initial = live(inv);
    const renders = new Map<number, number>();
    const onSeatRender = (id: number) => renders.set(id, (renders.get(id) ?? 0) + 1);
    let push: (s: SeatState) => void = () => {};
    const onActivate = () => {};
    function Harness() {
      const [state, setState] = useState(initial);
      push = setState;
      return <SeatMap layout={state.layout!} seats={state.seats} mine={new Set()} onActivate={onActivate} onSeatRender={onSeatRender} />;
    }
    const { container } = render(<Harness />);
    expect(renders.size).toBe(2000);
    renders.clear();

    let state = initial;
    const targets = ["A1", "T25", "AN50"].map((n) => seatOf(inv, n));
    for (const [i, seat] of targets.entries()) {
      state = seatReducer(state, { type: "event", event: bookedEvent(seat, i + 1) });
    }
    act(() => push(state));
    expect([...renders.keys()].sort((a, b) => a - b)).toEqual(targets.map((t) => t.seatId));
    expect([...renders.values()]).toEqual([1, 1, 1]);
    // (Plain selectors: role queries over 2,000 buttons are slow in jsdom.)
    for (const t of targets) expect(container.querySelector(`[data-seat-number="${t.seatNumber}"]`)).toHaveClass("seat-booked");
    expect(container.querySelectorAll(".seat-booked")).toHaveLength(3);
  });
});
