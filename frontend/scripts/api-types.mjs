// Writes src/api-types.ts from openapi.json with openapi-typescript; `--check` only fails when the file is stale.
// Run through scripts/openapi, which first regenerates openapi.json from the backend's code.
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";

const HEADER = `/**
 * GENERATED from frontend/openapi.json by openapi-typescript: do not edit.
 * Regenerate both files from the backend's code with \`scripts/openapi\` (from the repository root).
 * The names the UI uses for these shapes are in ./types.ts.
 */

`;

const source = new URL("../openapi.json", import.meta.url);
const target = new URL("../src/api-types.ts", import.meta.url);
const generated = HEADER + astToString(await openapiTS(source, { silent: true }));

if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== generated) {
    console.error("frontend/src/api-types.ts is stale: regenerate it with scripts/openapi and commit it.");
    process.exit(1);
  }
} else {
  writeFileSync(target, generated);
}
