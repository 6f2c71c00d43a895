// `demo --os`: the option parses like the others (mixed = one agent of each kind), and the
// demo's world gives each agent its emulated OS in its own root, with the deb packages and the
// scini driver repository configured for the scheduler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CommanderError } from "commander";
import { HostRoot } from "../../../src/host/files.js";
import { detectOsProfile } from "../../../src/host/os-profile.js";
import { parseDemoArgs } from "../../../sim/demo/options.js";
import { startDemoWorld } from "../../../sim/demo/demo.js";

const sink = { stdout: () => {}, stderr: () => {} };

test("demo --os: mixed is one agent of each kind; a list is taken as given; an unknown OS is a usage error", () => {
  assert.deepEqual(parseDemoArgs(["--os", "mixed"], sink)?.os, [
    "ubuntu-16.04",
    "ubuntu-18.04",
    "rhel-7",
    "coreos",
    "flatcar",
  ]);
  assert.deepEqual(parseDemoArgs(["--os", "flatcar,rhel-7"], sink)?.os, ["flatcar", "rhel-7"]);
  assert.equal(parseDemoArgs([], sink)?.os, undefined);
  assert.throws(
    () => parseDemoArgs(["--os", "plan9"], sink),
    (e: unknown) => e instanceof CommanderError && e.exitCode === 2,
  );
});

test("demo world with --os mixed: each agent's root is its OS; deb packages and the driver repository are configured", async () => {
  const world = await startDemoWorld({
    agents: 5,
    os: ["ubuntu-16.04", "ubuntu-18.04", "rhel-7", "coreos", "flatcar"],
  });
  try {
    const ids = [];
    for (const a of world.cluster.agents) {
      ids.push((await detectOsProfile(new HostRoot(join(world.nodesDir, a.host)))).id);
    }
    assert.deepEqual(ids, ["ubuntu-16.04", "ubuntu-18.04", "rhel-7", "coreos", "flatcar"]);
    const f = world.schedulerConfig.flags;
    assert.match(f["package-deb-sdc"] ?? "", /emc-scaleio-sdc_2\.0-6035\.0_amd64\.deb$/);
    assert.equal(f["sdc-driver-repo"], world.emulator.driverRepoUrl);
  } finally {
    await world.stop();
  }
});
