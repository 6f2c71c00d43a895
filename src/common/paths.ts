// The installation's root folder (where package.json lives), found from this file whether it
// runs compiled (dist/src/...) or from source (src/... through tsx).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, "package.json")) &&
      existsSync(join(dir, "bin", "scaleio-framework"))
    ) {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the scaleio-framework installation root");
    dir = up;
  }
}
