// The WebSocket the convex clients use. Node's built-in one (undici, Node 22) reports a refused
// connection with `error` but never `close`, and the convex client reconnects only on `close`:
// a worker or chat under the Node bundle then sat ~60 s (the client's silence timeout) after the
// backend came back. `ws` closes after the error, as browsers and Bun do; Bun keeps its own.
import WebSocket from "ws";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** For ConvexClient's `webSocketConstructor`: undefined (the global) under Bun, `ws` under Node. */
export const webSocketConstructor = isBun ? undefined : (WebSocket as unknown as typeof globalThis.WebSocket);
