// Fails when src/api/schema.d.ts is not what openapi-typescript makes of services/api/openapi.json
// (itself checked against the API by `llem-api openapi --check`). Regenerate: npm run gen:api.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const fresh = join(mkdtempSync(join(tmpdir(), "llem-api-types-")), "schema.d.ts");
execFileSync("node_modules/.bin/openapi-typescript", ["../services/api/openapi.json", "-o", fresh], { stdio: "ignore" });
if (readFileSync(fresh, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
  console.error("web/src/api/schema.d.ts is stale: run `make schemas` (or `npm run gen:api` in web/) and commit it");
  process.exit(1);
}
console.log("web/src/api/schema.d.ts is fresh");
