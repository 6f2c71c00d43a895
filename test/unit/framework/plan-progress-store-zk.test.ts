// A plan's progress on the ZooKeeper store (a real one on loopback): steps coming and going
// are one multi-op, and a removed plan leaves no key (its znodes may stay, empty).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { PlanProgressStore } from "../../../src/framework/plan/progress-store.js";
import { stepTable, type PlanProgress } from "../../../src/framework/plan/types.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";

let server: ZooKeeperServer;
before(async () => {
  server = await ZooKeeperServer.start();
});
after(async () => {
  await server?.destroy();
});

const progress = (id: string, from: number, to: number): PlanProgress => ({
  id,
  paused: false,
  pausedPhases: [],
  steps: stepTable(
    Object.fromEntries(
      Array.from({ length: to - from }, (_, i) => [
        `s/${from + i}`,
        { status: "PENDING", attempts: 0, updatedAt: from + i },
      ]),
    ),
  ),
});

test("on ZooKeeper: steps come and go in one commit, and a removed plan leaves no key", async () => {
  const store = await ZkStateStore.open(server.zkUrl("/progress/scaleio-framework"));
  try {
    const live = progress("deploy", 0, 100);
    const ps = new PlanProgressStore(store, live);
    await ps.saveAll();
    const other = progress("other", 0, 3);
    await new PlanProgressStore(store, other).saveAll();
    for (let i = 0; i < 50; i++) delete live.steps[`s/${i}`];
    Object.assign(live.steps, progress("deploy", 100, 150).steps);
    live.paused = true;
    await ps.saveAll();
    assert.deepEqual(await PlanProgressStore.load(store, "deploy"), live);

    await ps.remove();
    assert.equal(await PlanProgressStore.load(store, "deploy"), undefined);
    const left = await store.list("plans");
    assert.deepEqual(
      left.filter((k) => k === "plans/deploy" || k.startsWith("plans/deploy/")),
      [],
    );
    assert.deepEqual(await PlanProgressStore.load(store, "other"), other);
  } finally {
    await store.close();
  }
});
