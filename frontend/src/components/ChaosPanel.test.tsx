import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { makeInventory } from "../test/fixtures";
import { ChaosPanel, ms } from "./ChaosPanel";

function Harness({ onFire, booked = false }: { onFire: () => void; booked?: boolean }) {
  const [count, setCount] = useState("50");
  const seat = makeInventory().seats[0]!;
  const target = booked ? { ...seat, status: "BOOKED", booked: true } : seat;
  return (
    <ChaosPanel
      enabled
      onToggle={() => {}}
      target={target}
      count={count}
      onCount={setCount}
      strategy="DB"
      running={false}
      result={null}
      onFire={onFire}
    />
  );
}

describe("ChaosPanel", () => {
  it("bounds the request count to 1..200 when the field loses focus", async () => {
    const user = userEvent.setup();
    render(<Harness onFire={() => {}} />);
    const field = screen.getByTestId("chaos-count");
    await user.clear(field);
    await user.type(field, "999");
    expect(screen.getByTestId("chaos-fire")).toHaveTextContent("Fire 200");
    await user.tab();
    expect(field).toHaveValue(200);
    await user.clear(field);
    await user.tab();
    expect(field).toHaveValue(1);
  });

  it("warns that a taken seat can only produce 409s", async () => {
    const onFire = vi.fn();
    render(<Harness onFire={onFire} booked />);
    expect(screen.getByText(/already taken: every request will get 409/)).toBeInTheDocument();
    await userEvent.setup().click(screen.getByTestId("chaos-fire"));
    expect(onFire).toHaveBeenCalledOnce();
  });
});

describe("ms", () => {
  it("keeps latency readable in a small box", () => {
    expect(ms(3.14159)).toBe("3.1 ms");
    expect(ms(757.4)).toBe("757 ms");
    expect(ms(1303)).toBe("1.30 s");
  });
});
