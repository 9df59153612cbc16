// `.filter(q => …)` expressions as the client serializes them ({$eq: [a, b]}, {$field: "x.y"},
// {$literal: v}, …), evaluated against one document with Convex's value order.
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { compareValues, fieldValue } from "./values.ts";

export type Expr = Record<string, JSONValue>;

function arith(op: string, a: Value | undefined, b: Value | undefined): Value {
  if (typeof a === "bigint" && typeof b === "bigint") {
    if (op === "$add") return a + b;
    if (op === "$sub") return a - b;
    if (op === "$mul") return a * b;
    if (op === "$div") return a / b;
    return a % b;
  }
  if (typeof a !== "number" || typeof b !== "number") throw new Error(`${op.slice(1)} in a filter needs two numbers of the same type`);
  if (op === "$add") return a + b;
  if (op === "$sub") return a - b;
  if (op === "$mul") return a * b;
  if (op === "$div") return a / b;
  return a % b;
}

export function evaluate(expr: Expr, doc: Record<string, Value>): Value | undefined {
  const [op, arg] = Object.entries(expr)[0] ?? [];
  const args = () => (arg as Expr[]).map((e) => evaluate(e, doc));
  switch (op) {
    case "$field":
      return fieldValue(doc, arg as string);
    case "$literal": {
      if (arg !== null && typeof arg === "object" && "$undefined" in (arg as object)) return undefined;
      return jsonToConvex(arg as JSONValue);
    }
    case "$eq":
    case "$neq":
    case "$lt":
    case "$lte":
    case "$gt":
    case "$gte": {
      const [a, b] = args();
      const c = compareValues(a, b);
      return op === "$eq" ? c === 0 : op === "$neq" ? c !== 0 : op === "$lt" ? c < 0 : op === "$lte" ? c <= 0 : op === "$gt" ? c > 0 : c >= 0;
    }
    case "$and":
      return args().every((v) => v === true);
    case "$or":
      return args().some((v) => v === true);
    case "$not":
      return evaluate(arg as Expr, doc) !== true;
    case "$neg": {
      const v = evaluate(arg as Expr, doc);
      if (typeof v === "bigint") return -v;
      if (typeof v === "number") return -v;
      throw new Error("neg in a filter needs a number");
    }
    case "$add":
    case "$sub":
    case "$mul":
    case "$div":
    case "$mod": {
      const [a, b] = args();
      return arith(op, a, b);
    }
    default:
      throw new Error(`unsupported filter expression ${String(op)}`);
  }
}
