// The framework's core is platform-neutral: no file under src/framework speaks a storage
// platform's vocabulary (its components, tools or product names). A platform's words belong
// in src/platforms/<name>; the core speaks of health, problems, components and details.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "../../../src/framework");

/** ScaleIO's words: components (MDM, SDS, SDC, LIA, tie-breaker), tools, product names. */
const PLATFORM_WORDS =
  /\b(mdm|sds|sdc|lia|scli|scini|drv_cfg)s?\b|scaleio|powerflex|protection.?domain|tie.?breaker|rex.?ray|dvdi/gi;

/**
 * The only exceptions: the product's own name in identifiers that running systems share with
 * this version (reservations made, executors started, requests in flight), where a rename
 * would strand them. Each names its file and exact text.
 */
const ALLOWED: Record<string, string[]> = {
  "resources.ts": ['"scaleio-framework"'],
  "node-task/protocol.ts": [
    '"SCALEIO_FRAMEWORK_URL"',
    '"SCALEIO_FRAMEWORK_HOST_PROFILE"',
    '"SCALEIO_FRAMEWORK_CA_FILE"',
    '"SCALEIO_FRAMEWORK_SCHEDULER_CA"',
    '"x-scaleio-task-id"',
  ],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

test("src/framework speaks no storage platform's words", () => {
  const files = sources(ROOT);
  assert.ok(files.length > 20, `found ${files.length} source files`);
  const found: string[] = [];
  for (const file of files) {
    const name = relative(ROOT, file).split("\\").join("/");
    let text = readFileSync(file, "utf8");
    for (const allowed of ALLOWED[name] ?? []) {
      assert.ok(text.includes(allowed), `${name} no longer has ${allowed}: drop the exception`);
      text = text.split(allowed).join("");
    }
    text.split("\n").forEach((line, i) => {
      // Identifiers too: `mdmMode` is read as `mdm Mode`.
      const words = line.replace(/([a-z0-9])([A-Z])/g, "$1 $2");
      for (const m of words.matchAll(PLATFORM_WORDS)) found.push(`${name}:${i + 1}: ${m[0]}`);
    });
  }
  assert.deepEqual(found, []);
});
