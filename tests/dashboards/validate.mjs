// Validates dashboards against the JSON schema generated from @grafana/schema's types
// (schema.ts), with ajv in strict mode: a key the types do not know, a missing required key or a
// value of the wrong type fails.
// usage: node validate.mjs SCHEMA.json DASHBOARD.json...   exit 0 all valid, 1 any invalid, 2 usage
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Ajv = require("ajv");

const [schemaPath, ...dashboards] = process.argv.slice(2);
if (!schemaPath || dashboards.length === 0) {
  console.error("usage: node validate.mjs SCHEMA.json DASHBOARD.json...");
  process.exit(2);
}
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
// strict: the schema itself may use no unknown keyword or ambiguous construct; allErrors: report
// every problem of a dashboard at once.
const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

// A panel is one branch of a union (one per panel kind): ajv reports a failure for every branch.
// Keep, for each top-level panel, the errors of the branch of its own "type" only.
const rootName = schema.$ref?.replace("#/definitions/", "");
const root = rootName ? schema.definitions[rootName] : schema;
const anyOfPath = `#${rootName ? `/definitions/${rootName}` : ""}/properties/panels/items/anyOf`;
const branches = root.properties?.panels?.items?.anyOf ?? [];
const branchOf = new Map(
  branches.map((branch, index) => [branch.properties?.type?.const, index]),
);
function relevant(errors, dashboard) {
  return errors.filter((error) => {
    const m = /^\/panels\/(\d+)(\/|$)/.exec(error.instancePath);
    if (!m) return true;
    const kind = dashboard.panels?.[Number(m[1])]?.type;
    const branch = branchOf.get(kind);
    if (branch === undefined) return true; // an unknown kind: every branch's complaint counts
    if (error.keyword === "anyOf" && error.schemaPath === anyOfPath) {
      return false;
    }
    return error.schemaPath.startsWith(`${anyOfPath}/${branch}/`);
  });
}

let failed = 0;
for (const path of dashboards) {
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    console.error(`${path}: not JSON: ${error.message}`);
    ++failed;
    continue;
  }
  if (validate(dashboard)) {
    console.log(`${path}: valid`);
    continue;
  }
  ++failed;
  const errors = relevant(validate.errors, dashboard);
  console.error(`${path}: ${errors.length} schema errors`);
  for (const error of errors.slice(0, 40)) {
    const extra = error.params.additionalProperty ? ` (${error.params.additionalProperty})` : "";
    console.error(`  ${error.instancePath || "/"}: ${error.message}${extra}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
