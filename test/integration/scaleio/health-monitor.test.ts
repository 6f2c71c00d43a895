// The observer on an interval feeding the framework's health monitor: a killed SDS becomes
// a condition at the next observation and clears at the one after its return; a lost agent
// is a condition of its own; the status follows; an unreadable gateway is an error, not a
// crash, and history stays bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { ClusterObserver } from "../../../src/platforms/scaleio/observe/observer.js";
import { HealthMonitor } from "../../../src/framework/health/monitor.js";
import type { ConditionChange } from "../../../src/framework/health/types.js";
import { waitForEvent } from "../../support/wait.js";
import { startEnv } from "./support.js";

class Agents extends EventEmitter {
  list: { agentId: string; hostname: string; lostSince?: number }[] = [
    { agentId: "A1", hostname: "h1" },
  ];
  all() {
    return this.list;
  }
}

test("observer and monitor: conditions raised and cleared as the cluster changes", async () => {
  const env = await startEnv();
  const observer = new ClusterObserver({
    client: () => env.client,
    intervalMs: 50,
    historySize: 5,
  });
  const agents = new Agents();
  let deploying = true;
  const monitor = new HealthMonitor({
    platform: observer,
    agents,
    deploying: () => deploying,
    noPlans: () => false,
  });
  const changes: ConditionChange[] = [];
  monitor.on("change", (c) => changes.push(...c));
  try {
    const [pool] = await env.client.allStoragePools();
    await env.client.setSparePercentage(pool!.id, 34);
    monitor.start();
    assert.equal(monitor.report().status, "deploying", "not observed yet, plans running");
    observer.start();
    await waitForEvent(observer, "observed", { timeoutMs: 5000 });
    deploying = false;
    assert.equal(monitor.report().status, "healthy");

    const sds = (await env.client.allSds())[1]!;
    const ip = (sds.ipList![0] as { ip: string }).ip;
    await env.admin(`/admin/sds/${ip}/kill`);
    await waitForEvent(monitor, "change", {
      timeoutMs: 5000,
      filter: (c: ConditionChange[]) =>
        c.some((x) => x.kind === "raised" && x.condition.type === "SdsDisconnected"),
    });
    const report = monitor.report();
    assert.equal(report.status, "degraded");
    assert.ok(report.conditions.some((c) => c.object === `sds/${ip}`));

    await env.admin(`/admin/sds/${ip}/restore`);
    await waitForEvent(monitor, "change", {
      timeoutMs: 5000,
      filter: (c: ConditionChange[]) =>
        c.some((x) => x.kind === "cleared" && x.condition.type === "SdsDisconnected"),
    });

    agents.list[0]!.lostSince = Date.now();
    agents.emit("lost");
    assert.deepEqual(
      monitor.conditions().map((c) => `${c.type} ${c.object}`),
      ["AgentLost agent/h1"],
    );
    delete agents.list[0]!.lostSince;
    agents.emit("back");
    assert.deepEqual(monitor.conditions(), []);
    assert.ok(observer.samples().length <= 5, "history bounded by its size");
    assert.ok(observer.samples().at(-1)!.value["pool/default/default"], "pool samples kept");

    await env.emu.close(); // the gateway goes away: failures are reported, nothing throws
    const [err] = await waitForEvent<[Error]>(observer, "failed", { timeoutMs: 5000 });
    assert.match(err.message, /observing the cluster|listing systems/);
  } finally {
    monitor.stop();
    await observer.stop();
    await env.close();
  }
});
