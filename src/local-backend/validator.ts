// Checking values against the JSON form of Convex validators (what `exportArgs()`,
// `exportReturns()` and the schema's `export()` produce), as the real backend does before
// a function runs, after it returns, and on every document written.
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { compareValues } from "./values.ts";

export type ValidatorJson =
  | { type: "any" | "null" | "number" | "bigint" | "boolean" | "string" | "bytes" }
  | { type: "literal"; value: JSONValue }
  | { type: "id"; tableName: string }
  | { type: "array"; value: ValidatorJson }
  | { type: "record"; keys: ValidatorJson; values: { fieldType: ValidatorJson; optional?: boolean } }
  | { type: "object"; value: Record<string, { fieldType: ValidatorJson; optional: boolean }> }
  | { type: "union"; value: ValidatorJson[] };

/** Which table an id belongs to (undefined: not an id of this backend). */
export type IdTable = (id: string) => string | undefined;

export type Mismatch = { path: string; message: string };

function describe(v: ValidatorJson): string {
  switch (v.type) {
    case "literal":
      return `v.literal(${JSON.stringify(v.value)})`;
    case "id":
      return `v.id("${v.tableName}")`;
    case "array":
      return `v.array(${describe(v.value)})`;
    case "union":
      return `v.union(${v.value.map(describe).join(", ")})`;
    case "object":
      return `v.object({${Object.entries(v.value).map(([k, f]) => `${k}: ${f.optional ? `v.optional(${describe(f.fieldType)})` : describe(f.fieldType)}`).join(", ")}})`;
    case "record":
      return `v.record(${describe(v.keys)}, ${describe(v.values.fieldType)})`;
    case "number":
      return "v.float64()";
    case "bigint":
      return "v.int64()";
    default:
      return `v.${v.type}()`;
  }
}

function isPlainObject(v: Value | undefined): v is Record<string, Value> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof ArrayBuffer);
}

/** The first place where `value` does not match, or undefined when it does. */
export function mismatch(value: Value | undefined, v: ValidatorJson, idTable: IdTable, path = ""): Mismatch | undefined {
  const fail = (message: string): Mismatch => ({ path, message });
  switch (v.type) {
    case "any":
      return value === undefined ? fail("Value is undefined") : undefined;
    case "null":
      return value === null ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "number":
      return typeof value === "number" ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "bigint":
      return typeof value === "bigint" ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "boolean":
      return typeof value === "boolean" ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "string":
      return typeof value === "string" ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "bytes":
      return value instanceof ArrayBuffer ? undefined : fail(`Value does not match validator ${describe(v)}`);
    case "literal":
      return value !== undefined && compareValues(value, jsonToConvex(v.value)) === 0 && typeof value === typeof jsonToConvex(v.value)
        ? undefined
        : fail(`Value does not match validator ${describe(v)}`);
    case "id": {
      if (typeof value !== "string") return fail(`Value does not match validator ${describe(v)}`);
      const table = idTable(value);
      if (table === undefined) return fail(`Value is not a valid ID for table "${v.tableName}"`);
      if (table !== v.tableName) return fail(`Found ID "${value}" from table \`${table}\`, which does not match the table name in validator \`${describe(v)}\``);
      return undefined;
    }
    case "array": {
      if (!Array.isArray(value)) return fail(`Value does not match validator ${describe(v)}`);
      for (let i = 0; i < value.length; i++) {
        const m = mismatch(value[i], v.value, idTable, `${path}[${i}]`);
        if (m) return m;
      }
      return undefined;
    }
    case "record": {
      if (!isPlainObject(value)) return fail(`Value does not match validator ${describe(v)}`);
      for (const [k, item] of Object.entries(value)) {
        const mk = mismatch(k, v.keys, idTable, `${path}.${k}`);
        if (mk) return mk;
        const mv = mismatch(item, v.values.fieldType, idTable, `${path}.${k}`);
        if (mv) return mv;
      }
      return undefined;
    }
    case "object": {
      if (!isPlainObject(value)) return fail(`Value does not match validator ${describe(v)}`);
      for (const [k, field] of Object.entries(v.value)) {
        if (value[k] === undefined) {
          if (!field.optional) return { path: `${path}.${k}`, message: `Object is missing the required field \`${k}\`. Consider wrapping the field validator in \`v.optional(...)\` if this is expected.` };
          continue;
        }
        const m = mismatch(value[k], field.fieldType, idTable, `${path}.${k}`);
        if (m) return m;
      }
      for (const k of Object.keys(value)) {
        if (!(k in v.value) && value[k] !== undefined) return { path: `${path}.${k}`, message: `Object contains extra field \`${k}\` that is not in the validator.` };
      }
      return undefined;
    }
    case "union":
      return v.value.some((alt) => mismatch(value, alt, idTable, path) === undefined) ? undefined : fail(`Value does not match validator ${describe(v)}`);
  }
}

/** One readable line block, in the shape of Convex's own validation errors. */
export function mismatchMessage(kind: string, m: Mismatch, value: Value | undefined): string {
  let shown: string;
  try {
    shown = JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof ArrayBuffer ? `<${x.byteLength} bytes>` : x));
  } catch {
    shown = String(value);
  }
  if (shown && shown.length > 500) shown = `${shown.slice(0, 500)}…`;
  return `${kind}: ${m.message}${m.path ? `\nPath: ${m.path}` : ""}\nValue: ${shown}`;
}
