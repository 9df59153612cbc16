// How a thrown error travels back to a client: a message, plus `errorData` when the function
// threw a ConvexError, so the client rebuilds a ConvexError with the same data.
import { ConvexError, convexToJson, type JSONValue, type Value } from "convex/values";

export type Failure = { errorMessage: string; errorData?: JSONValue };

/** A failure the server itself raises (unknown function, bad request), not the function. */
export function serverFailure(errorMessage: string): Failure {
  return { errorMessage };
}

export function notFoundFailure(udfPath: string): Failure {
  // Same words as the real backend, for a missing function and for an internal one called
  // without the admin key alike: the caller learns nothing about what exists.
  return serverFailure(`Could not find public function for '${udfPath}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`);
}

function isConvexError(e: unknown): e is ConvexError<Value> {
  return e instanceof ConvexError || (e instanceof Error && (e.name === "ConvexError" || Symbol.for("ConvexError") in e) && "data" in e);
}

export function failureFromError(e: unknown): Failure {
  if (isConvexError(e)) {
    let errorData: JSONValue;
    try {
      // The convex/server entry points hand a thrown ConvexError back with its data already
      // serialized to Convex-JSON text (and mark it so).
      const serialized = (e as { ConvexErrorSymbol?: unknown }).ConvexErrorSymbol === Symbol.for("ConvexError") && typeof e.data === "string";
      errorData = serialized ? (JSON.parse(e.data as string) as JSONValue) : convexToJson(e.data);
    } catch {
      errorData = String(e.data);
    }
    return { errorMessage: `Uncaught ConvexError: ${e.message}`, errorData };
  }
  if (e instanceof Error) return { errorMessage: `Uncaught ${e.name || "Error"}: ${e.message}` };
  return { errorMessage: `Uncaught ${String(e)}` };
}
