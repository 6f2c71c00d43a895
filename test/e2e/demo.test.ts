// The demo, as `npm run demo` runs it: five agents (three with two raw devices each), a
// ScaleIO emulator of bare machines and the scheduler, which provisions a 3-node MDM cluster
// and every agent, then proves health with a test volume.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startDemo, untilHealthy } from "../../sim/demo/demo.js";

test(
  "the demo deploys ScaleIO on five agents and reaches healthy in under 60 s",
  { timeout: 120_000 },
  async () => {
    const lines: string[] = [];
    const demo = await startDemo({ agents: 5, out: (l) => lines.push(l), deadlineMs: 60_000 });
    try {
      const started = Date.now();
      const plan = await demo.healthy;
      assert.ok(Date.now() - started < 60_000);
      assert.equal(plan.status, "COMPLETE");
      const s = await demo.scheduler.summary();
      assert.equal(s.clusterState, "ClusteredNormal");
      assert.deepEqual([s.sdsConnected, s.sdsTotal], [3, 3]);
      assert.deepEqual([s.sdcConnected, s.sdcTotal], [5, 5]);
      assert.equal(s.rawCapacityKb, 3 * 2 * 100 * 2 ** 20);
      assert.ok(s.usableCapacityKb > 0 && s.usableCapacityKb % (8 * 2 ** 20) === 0);
      // Three MDMs on three different agents, in three racks.
      const members = demo.scheduler.platform.mdms;
      assert.equal(new Set(members.map((m) => m.agentId)).size, 3);
      assert.match(lines[0]!, /^api: http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(lines[1], `gateway: ${demo.emulator.gatewayUrl}`);
      assert.match(lines[1]!, /^gateway: https?:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(lines[2], `control: ${demo.emulator.controlUrl}`);
      assert.match(lines[2]!, /^control: http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(lines.some((l) => /\[verify\] .*: COMPLETE/.test(l)));
      const health = await fetch(`${demo.apiUrl}/health`);
      assert.equal(health.status, 200);
      // The product's version, as the scheduler command reports it.
      const version = (await (await fetch(`${demo.apiUrl}/version`)).json()) as { version: string };
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
      assert.equal(version.version, (pkg as { version: string }).version);
      // Healthy as the monitor says it (no condition; an MDM alert would be one), no alert at
      // the emulator's gateway, and the spare the policy sets for three equal SDSs.
      await untilHealthy(demo, 30_000);
      assert.deepEqual((await demo.scheduler.summary()).alerts, []);
      const pools = demo.scheduler.platform.pools();
      assert.equal(pools.length, 1);
      assert.ok(pools[0]!.sparePercentage >= 34, `spare ${pools[0]!.sparePercentage} %`);
    } finally {
      await demo.stop();
    }
  },
);
