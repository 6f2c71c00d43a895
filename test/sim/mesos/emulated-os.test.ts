// `dev mesos --os`: each agent is an emulated OS inside its own sandbox root (os-release,
// kernel, read-only /usr, tools), which the executor's host layer detects as that OS; bad
// lists and --host-passthrough are refused before anything starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HostRoot } from "../../../src/host/files.js";
import { detectOsProfile } from "../../../src/host/os-profile.js";
import { MIXED_OS, osOfAgent, parseOsList } from "../../../sim/mesos/emulated-os.js";
import { until } from "./helpers.js";

test("--os lists: names round robin, mixed is one of each kind, an unknown name is refused", () => {
  assert.deepEqual(parseOsList("rhel-7,flatcar"), ["rhel-7", "flatcar"]);
  assert.deepEqual(parseOsList("mixed"), MIXED_OS);
  assert.deepEqual(MIXED_OS, ["ubuntu-16.04", "ubuntu-18.04", "rhel-7", "coreos", "flatcar"]);
  assert.equal(osOfAgent(["rhel-7", "flatcar"], 2), "rhel-7");
  assert.equal(osOfAgent([], 0), undefined);
  assert.throws(() => parseOsList("rhel-7,windows"), /unknown OS 'windows'/);
});

const devMesos = (args: string[]) =>
  spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `const m = await import('./sim/cli/dev.ts'); await m.runDev(${JSON.stringify(["mesos", "--port", "0", "--host", "127.0.0.1", ...args])});`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );

test("dev mesos --os flatcar,rhel-7: each agent's root holds its OS, detected as such; nothing outside the roots", async () => {
  const child = devMesos(["--agents", "2", "--os", "flatcar,rhel-7"]);
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  try {
    await until(() => out.includes("\n"), 60_000, "the ready line");
    assert.match(out, /^master: http:\/\/127\.0\.0\.1:\d+\n$/);
    const agents = [...err.matchAll(/^agent (\S+): (\S+) \(kernel (\S+)\), root (\S+)$/gm)];
    assert.deepEqual(
      agents.map((m) => [m[2], m[3]]),
      [
        ["flatcar", "5.10.43-flatcar"],
        ["rhel-7", "3.10.0-1160.el7.x86_64"],
      ],
    );
    for (const m of agents) {
      const root = m[4]!;
      assert.ok(root.endsWith(join("nodes", m[1]!)), root);
      const os = await detectOsProfile(new HostRoot(root));
      assert.equal(os.id, m[2]);
      assert.equal(os.kernel.release, m[3]);
    }
    const flatcar = agents[0]![4]!;
    assert.match(readFileSync(join(flatcar, "etc/os-release"), "utf8"), /ID="flatcar"/);
    assert.match(readFileSync(join(flatcar, "proc/mounts"), "utf8"), /\/usr ext4 ro/);
    assert.ok(existsSync(join(flatcar, "bin/systemctl")));
    assert.equal(existsSync(join(flatcar, "bin/rpm")), false, "no rpm on Flatcar");
    assert.ok(existsSync(join(agents[1]![4]!, "bin/rpm")), "rpm on RHEL 7");
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
});

test("dev mesos --os: an unknown OS and --host-passthrough are refused before anything starts", async () => {
  for (const [args, re] of [
    [["--os", "beos"], /unknown OS 'beos'/],
    [["--os", "flatcar", "--host-passthrough"], /cannot be used with --host-passthrough/],
  ] as [string[], RegExp][]) {
    const child = devMesos(["--agents", "1", ...args]);
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    assert.notEqual(code, 0);
    assert.match(err, re);
  }
});
