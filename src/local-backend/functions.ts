// Finding a function in the module map by its udfPath, with its kind and visibility, so the
// server can refuse internal functions to callers without the admin key *before* running them.
// The map has the shape convex-test also takes (test/convex uses it as a unit-test harness).

/** Module path → loader. One key must contain `_generated`: the text before it is the root. */
export type ModuleMap = Record<string, () => Promise<unknown>>;

export type FunctionKind = "query" | "mutation" | "action";
export type Visibility = "public" | "internal";
export type FunctionInfo = { udfPath: string; kind: FunctionKind; visibility: Visibility };

/** `mod.js:fn` → `mod:fn`, `mod` → `mod:default`, as the Convex client canonicalizes. */
export function canonicalUdfPath(path: string): string {
  const colon = path.lastIndexOf(":");
  const [mod, fn] = colon === -1 ? [path, "default"] : [path.slice(0, colon), path.slice(colon + 1)];
  return `${mod.endsWith(".js") ? mod.slice(0, -3) : mod}:${fn}`;
}

type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

function kindOf(fn: RegisteredFunction): FunctionKind | undefined {
  if (fn.isQuery) return "query";
  if (fn.isMutation) return "mutation";
  if (fn.isAction) return "action";
  return undefined;
}

/** The root prefix: everything before `_generated` in the key that has it. */
export function modulesRoot(modules: ModuleMap): string {
  const generated = Object.keys(modules).find((k) => k.includes("_generated"));
  if (generated === undefined) {
    throw new Error('the module map needs a key containing "_generated" (a placeholder loader is enough)');
  }
  return generated.split("_generated", 2)[0]!;
}

export type FunctionIndex = {
  /** The function behind a udfPath, or undefined when there is none (or it is not a Convex function). */
  resolve(udfPath: string): Promise<FunctionInfo | undefined>;
  /** The same, with the registered function object itself (what the engine invokes). */
  lookup(udfPath: string): Promise<(FunctionInfo & { fn: object }) | undefined>;
  /** A module's exports by path (`crons`), or undefined when the map has no such module. */
  module(path: string): Promise<Record<string, unknown> | undefined>;
};

export function createFunctionIndex(modules: ModuleMap): FunctionIndex {
  const root = modulesRoot(modules);
  const byPath = new Map<string, () => Promise<unknown>>();
  for (const [key, load] of Object.entries(modules)) byPath.set(key.replace(/\.[^./]+$/, ""), load);
  const index: FunctionIndex = {
    async module(path) {
      const load = byPath.get(root + path);
      return load ? ((await load()) as Record<string, unknown>) : undefined;
    },
    async resolve(path) {
      const found = await index.lookup(path);
      return found && { udfPath: found.udfPath, kind: found.kind, visibility: found.visibility };
    },
    async lookup(path) {
      const udfPath = canonicalUdfPath(path);
      const colon = udfPath.lastIndexOf(":");
      const load = byPath.get(root + udfPath.slice(0, colon));
      if (!load) return undefined;
      const mod = (await load()) as Record<string, unknown> | null | undefined;
      const fn = mod?.[udfPath.slice(colon + 1)];
      if ((typeof fn !== "function" && typeof fn !== "object") || fn === null) return undefined;
      const kind = kindOf(fn as RegisteredFunction);
      if (!kind) return undefined;
      // Registered functions carry exactly one of the two flags; anything else is treated as
      // internal so an unexpected shape can never widen access.
      const visibility: Visibility = (fn as RegisteredFunction).isPublic === true ? "public" : "internal";
      return { udfPath, kind, visibility, fn: fn as object };
    },
  };
  return index;
}
