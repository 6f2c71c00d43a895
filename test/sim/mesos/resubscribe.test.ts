// What a framework that fails over (re-subscribes with its id) gets at once, as in Mesos:
// its unacknowledged status updates (agents flush them on UpdateFrameworkMessage, not after
// their retry backoff, a minute here) and offers its predecessor declined with a long filter
// (the allocator drops filters when a framework is deactivated). Deadlines are a few
// seconds: only the behaviour under test can meet them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { FRAMEWORK, Scheduler } from "./helpers.js";

let c: DevCluster;
let agentId: string;

before(async () => {
  c = await startDevCluster({
    agents: 1,
    master: { allocationIntervalMs: 100 },
    agent: { statusUpdateRetryMs: 60_000 },
  });
  agentId = await c.agents[0]!.id();
});
after(() => c.stop());

test("a terminal update left unacknowledged by a killed scheduler reaches its successor at once", async () => {
  let s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, failover_timeout: 60 });
  try {
    const [offer] = await s.offers(1);
    const r = await s.call("ACCEPT", {
      offer_ids: [offer!.id],
      operations: [
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: "quick",
                task_id: { value: "quick-1" },
                agent_id: { value: agentId },
                resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
                command: { value: "true" },
              },
            ],
          },
        },
      ],
    });
    assert.equal(r.status, 202);
    // Acknowledge everything but the terminal update, then vanish.
    const seen = new Set<string>();
    let finished;
    for (;;) {
      const u = await s.update((x) => x.task_id.value === "quick-1" && !seen.has(x.uuid));
      seen.add(u.uuid);
      if (u.state === "TASK_FINISHED") {
        finished = u;
        break;
      }
      await s.ack(u);
    }
    s.close();
    s = await Scheduler.subscribe(c.masterUrl, {
      ...FRAMEWORK,
      failover_timeout: 60,
      id: { value: s.frameworkId },
    });
    const again = await s.update(
      (x) => x.task_id.value === "quick-1" && x.state === "TASK_FINISHED",
      5_000,
    );
    assert.equal(again.uuid, finished.uuid, "the same update, re-sent");
    await s.ack(again);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("refuse filters end with the subscription: a successor is offered what its predecessor declined", async () => {
  let s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, failover_timeout: 60 });
  try {
    const [offer] = await s.offers(1);
    const r = await s.call("DECLINE", {
      offer_ids: [offer!.id],
      filters: { refuse_seconds: 600 },
    });
    assert.equal(r.status, 202);
    s.close();
    s = await Scheduler.subscribe(c.masterUrl, {
      ...FRAMEWORK,
      failover_timeout: 60,
      id: { value: s.frameworkId },
    });
    const [again] = await s.offers(1, 5_000);
    assert.equal(again!.agent_id.value, agentId);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});
