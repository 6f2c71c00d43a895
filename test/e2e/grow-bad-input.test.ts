// Bad input on the demo cluster (imperative strategy): an agent attribute naming a device that
// does not exist, a device that holds a filesystem, a consumer attribute naming an unknown
// pool. Each is a clear error in that agent's own step; the rest of the cluster deploys, and
// the device in use is never touched. The executors' periodic device scan then notices the
// missing disk once it is plugged in, and that agent's SDS joins with it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { startDemo, type Demo } from "../../sim/demo/demo.js";
import type { PlanView, StepView } from "../../src/framework/plan/types.js";
import { waitUntil } from "../support/wait.js";

const GB_KB = 2 ** 20;
const good = "scaleio-sds-domains:pd1;scaleio-sds-pd1:pool1;scaleio-sds-pool1:/dev/sdb,/dev/sdc";
const ATTRS = [
  `rack:r1;${good}`,
  `rack:r2;${good}`,
  `rack:r3;${good}`,
  // A device that does not exist (yet).
  "rack:r1;scaleio-sds-domains:pd1;scaleio-sds-pd1:pool1;scaleio-sds-pool1:/dev/sdb,/dev/sdz",
  // A device holding ext4, and a consumer pool nobody provides.
  `rack:r2;${good};scaleio-sdc-domains:pd1;scaleio-sdc-pd1:nopool`,
];
let demo: Demo;
let ext4Sum = "";
const ext4File = (root: string) => join(root, "dev", "sdc");
/** Checksum of the first MiB (the files are large and sparse). */
function sha(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    readSync(fd, buf, 0, buf.length, 0);
    return createHash("sha256").update(buf).digest("hex");
  } finally {
    closeSync(fd);
  }
}

before(async () => {
  demo = await startDemo({
    agents: 5,
    storageAgents: 5,
    out: () => undefined,
    // The plan never completes here (three agents are refused): give up on "healthy" at once.
    deadlineMs: 1000,
    attributes: (i) => ATTRS[i]!,
    // REX-Ray's configuration only (no download to install and prove): the agent whose
    // consumer names an unknown pool is about its assignment's error, not REX-Ray's.
    flags: {
      strategy: "imperative",
      "device-scan-interval": "1",
      "rexray-url": undefined,
      "dvdcli-url": undefined,
    },
    prepareNode: (_host, i, root) => {
      if (i !== 4) return;
      // The ext2/3/4 superblock magic where blkid looks for it.
      const fd = openSync(ext4File(root), "r+");
      writeSync(fd, Buffer.from([0x53, 0xef]), 0, 2, 0x438);
      closeSync(fd);
      ext4Sum = sha(ext4File(root));
    },
    ...(process.env.GROW_TEST_LOG ? { logFile: process.env.GROW_TEST_LOG } : {}),
  });
  demo.healthy.catch(() => undefined);
});

after(async () => {
  await demo?.stop();
});

const steps = (v: PlanView): StepView[] => v.phases.flatMap((p) => p.steps);

test(
  "bad attributes and devices are errors on their agents only; the rest deploys",
  { timeout: 240_000 },
  async () => {
    const ids = await Promise.all(demo.cluster.agents.map((a) => a.id()));
    const engine = demo.scheduler.scheduler.engine;
    await waitUntil(() => engine.planIds().includes("deploy"), {
      timeoutMs: 60_000,
      what: "a plan",
    });
    const v = await engine.waitFor(
      "deploy",
      (x) =>
        // The verify step exists once every agent's facts are known; complete, it ran last.
        steps(x).some((s) => s.id === "verify/cluster" && s.status === "COMPLETE") &&
        x.phases.find((p) => p.id === "consumers")?.steps.length === 5 &&
        steps(x).filter((s) => s.id.startsWith("assign/") && s.status === "ERROR").length === 2,
      200_000,
    );
    const byId = new Map(steps(v).map((s) => [s.id, s]));
    const a3 = byId.get(`assign/${ids[3]}`)!;
    const a4 = byId.get(`assign/${ids[4]}`)!;
    assert.match(a3.lastError!, /device \/dev\/sdz does not exist on /);
    assert.match(a4.lastError!, /device \/dev\/sdc is not usable: holds ext2\/3\/4/);
    assert.match(a4.lastError!, /pool 'nopool' in domain 'pd1', which no agent provides/);
    assert.equal(a3.retryAt, undefined, "waits for the operator, no retry loop");
    // Nothing else is affected: every other step is complete.
    const open = steps(v).filter((s) => s.status !== "COMPLETE" && !s.id.startsWith("assign/"));
    assert.deepEqual(
      open.map((s) => `${s.id} ${s.status} ${s.lastError ?? ""}`.trim()),
      [],
    );
    for (const id of ids) assert.equal(byId.get(`rexray/${id}`)?.status, "COMPLETE");
    assert.equal(byId.get(`join-sds/${ids[3]}`), undefined);
    assert.equal(byId.get(`join-sds/${ids[4]}`), undefined);
    const s = await demo.scheduler.summary();
    assert.equal(s.sdsTotal, 3);
    assert.equal(s.rawCapacityKb, 3 * 2 * 100 * GB_KB);
    // The device that holds a filesystem was never written.
    assert.equal(sha(ext4File(join(demo.nodesDir, demo.cluster.agents[4]!.host))), ext4Sum);
  },
);

test(
  "the executor's periodic scan finds the disk that was missing; its agent joins",
  { timeout: 120_000 },
  async () => {
    const a3 = demo.cluster.agents[3]!;
    const id = await a3.id();
    demo.addDevice(a3.host, "sdz");
    const engine = demo.scheduler.scheduler.engine;
    // No rescan call: the executor reports its devices on its own.
    await engine.waitFor(
      "deploy",
      (x) =>
        !steps(x).some((s) => s.id === `assign/${id}`) &&
        steps(x).some((s) => s.id === `join-sds/${id}` && s.status === "COMPLETE"),
      100_000,
    );
    await waitUntil(async () => (await demo.scheduler.summary()).sdsTotal === 4, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "the fourth SDS",
    });
    assert.equal((await demo.scheduler.summary()).rawCapacityKb, 4 * 2 * 100 * GB_KB);
  },
);
