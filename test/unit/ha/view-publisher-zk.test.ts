// The leader's views on a real ZooKeeper (loopback): a copy of a thousand nodes and 7,000
// steps is written (pieces far below the znode limit) and read back whole by a standby's
// reader; a newer copy with a plan gone removes that plan's pieces.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { ViewPublisher } from "../../../src/ha/view-publisher.js";
import { StoredViews } from "../../../src/ha/view-reader.js";
import type { ViewSet } from "../../../src/ha/views.js";
import type { NodeView } from "../../../src/framework/operator-view.js";
import type { PlanView, StepView } from "../../../src/framework/plan/types.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";

let server: ZooKeeperServer;
before(async () => {
  server = await ZooKeeperServer.start();
});
after(async () => {
  await server?.destroy();
});

const AGENTS = 1000;
const PHASES = 7;

function largeSet(plans: number): ViewSet {
  const agent = (i: number) => `5f3c1b2e-8a4d-4c6e-9f01-23456789abcd-S${i}`;
  const step = (k: number, i: number): StepView =>
    ({
      id: `p${k}/${agent(i)}`,
      name: `component ${k} on node-${i}.dc1.example.com`,
      asset: agent(i),
      status: "COMPLETE",
      attempts: 1,
      updatedAt: 1_796_000_000_000 + i,
      message: "installed 3.0.1000.208",
      fingerprint: "0123456789abcdef",
    }) as StepView;
  const plan = (id: string): PlanView =>
    ({
      id,
      name: id,
      strategy: "serial",
      status: "COMPLETE",
      paused: false,
      progress: { complete: AGENTS * PHASES, total: AGENTS * PHASES },
      phases: Array.from({ length: PHASES }, (_, k) => ({
        id: `p${k}`,
        name: `phase ${k}`,
        strategy: "parallel",
        dependsOn: [],
        status: "COMPLETE",
        paused: false,
        steps: Array.from({ length: AGENTS }, (_, i) => step(k, i)),
      })),
    }) as PlanView;
  const nodes = Array.from({ length: AGENTS }, (_, i): NodeView => ({
    agentId: agent(i),
    hostname: `node-${i}.dc1.example.com`,
    ip: `10.0.${i >> 8}.${i & 255}`,
    attributes: { rack: `r${i % 20}` },
    lost: false,
    lastSeen: 1,
    roles: ["sds", "sdc"],
    devices: [{ path: "/dev/sdb", domain: "pd1", pool: "pool1" }],
    steps: Array.from({ length: PHASES }, (_, k) => ({
      planId: "deploy",
      phaseId: `p${k}`,
      stepId: `p${k}/${agent(i)}`,
      name: `component ${k}`,
      status: "COMPLETE",
      updatedAt: 1,
    })),
  }));
  return {
    summary: { platform: "scaleio" } as unknown as ViewSet["summary"],
    health: { status: "healthy", conditions: [] },
    pools: [],
    plans: Array.from({ length: plans }, (_, n) => plan(n === 0 ? "deploy" : `extra-${n}`)),
    nodes,
  };
}

test("a thousand nodes and 7,000 steps go through ZooKeeper and back; a plan gone leaves no piece", async () => {
  const leader = await ZkStateStore.open(server.zkUrl("/views/scaleio-framework"));
  const standby = await ZkStateStore.open(server.zkUrl("/views/scaleio-framework"));
  try {
    let set = largeSet(2);
    const publish = async () => {
      const pub = new ViewPublisher(leader, {
        collect: () => set,
        leader: () => null,
        redact: (t) => t,
      });
      pub.start();
      await pub.settled();
      await pub.stop();
      assert.equal(pub.publishes, 1);
    };
    await publish();
    const copy = await new StoredViews(standby).current();
    assert.deepEqual(copy?.set, set);

    set = largeSet(1);
    set.nodes[500]!.lost = true;
    await publish();
    const keys = await standby.list("views");
    assert.ok(!keys.some((k) => k.startsWith("views/plans/1/")), keys.join(", "));
    const again = await new StoredViews(standby).current();
    assert.equal(again?.set.plans.length, 1);
    assert.equal(again?.set.nodes[500]!.lost, true);
  } finally {
    await leader.close();
    await standby.close();
  }
});
