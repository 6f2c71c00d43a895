// `npm ci` on the oldest Node the project declares prints no engine warning: every package in
// the lockfile accepts that version (a transitive one that wants newer, as cookie@2 through
// fastify's light-my-request did, is pinned back with an override).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import semver from "semver";

interface Lock {
  packages: Record<string, { engines?: Record<string, string> | string[]; optional?: boolean }>;
}

const root = new URL("../../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8")) as Lock;

test("every locked package accepts the oldest Node the project declares", () => {
  const oldest = semver.minVersion(pkg.engines.node);
  assert.ok(oldest, `engines.node '${pkg.engines.node}' is a range`);
  const refusing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (!path || node === undefined) continue;
    if (!semver.satisfies(oldest, node, { includePrerelease: true }))
      refusing.push(`${path.replace(/^.*node_modules\//, "")} wants node ${node}`);
  }
  assert.deepEqual(refusing, [], `on Node ${oldest.version}`);
});
