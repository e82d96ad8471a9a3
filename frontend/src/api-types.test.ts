import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("generated wire types", () => {
  it("src/api-types.ts is what openapi-typescript makes of openapi.json (else run scripts/openapi)", () => {
    // tests/api/test_openapi_types.py checks the other half: openapi.json is what the backend's code serves.
    let failure = "";
    try {
      execFileSync(process.execPath, ["scripts/api-types.mjs", "--check"], { cwd: frontend, encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      failure = String((err as { stderr?: string }).stderr || err);
    }
    expect(failure, "frontend/src/api-types.ts is stale: run scripts/openapi and commit the result").toBe("");
  }, 60_000); // a child Node parsing the document: generous, the machine is shared
});
