// What `--version` prints. scripts/build.ts replaces __OO_BUILD_COMMIT__ with the commit the
// binary was built from, so a bug report names exactly what ran; run from source, there is none.
declare const __OO_BUILD_COMMIT__: string | undefined;

export function versionLine(version: string): string {
  const commit = typeof __OO_BUILD_COMMIT__ === "string" ? __OO_BUILD_COMMIT__ : "none: running from source";
  return `${version} (commit ${commit})`;
}
