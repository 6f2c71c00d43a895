// The opt-in agent restart (isolator configuration changed): the agent's machine goes into a
// Mesos maintenance window on the development master, the restart waits until the other
// frameworks' tasks have left the agent, then the machine leaves the schedule. A drain that
// does not finish in time fails the step and restarts nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { MaintenanceClient } from "../../../src/mesos/maintenance/client.js";
import {
  DrainTimeoutError,
  drainAndRestart,
} from "../../../src/platforms/scaleio/agent-restart.js";
import { Scheduler, type Ev } from "../../sim/mesos/helpers.js";
import { waitUntil } from "../../support/wait.js";

let c: DevCluster;
let agentId: string;

before(async () => {
  c = await startDevCluster({ agents: 1, master: { allocationIntervalMs: 100 } });
  agentId = await c.agents[0]!.id();
});
after(() => c.stop());

async function runSleeper(s: Scheduler, taskId: string): Promise<Ev> {
  const [offer] = await s.offers(1, 15_000);
  const r = await s.call("ACCEPT", {
    offer_ids: [offer!.id],
    operations: [
      {
        type: "LAUNCH",
        launch: {
          task_infos: [
            {
              name: taskId,
              task_id: { value: taskId },
              agent_id: offer!.agent_id,
              resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
              command: { value: "sleep 120" },
            },
          ],
        },
      },
    ],
    filters: { refuse_seconds: 0 },
  });
  assert.equal(r.status, 202);
  // Updates come one at a time: each is acknowledged before the next is sent.
  for (const state of ["TASK_STARTING", "TASK_RUNNING"])
    await s.ack(await s.update((u) => u.task_id.value === taskId && u.state === state, 15_000));
  return offer!;
}

test(
  "the agent is drained before its service is restarted, then leaves the schedule",
  { timeout: 60_000 },
  async () => {
    const app = await Scheduler.subscribe(c.masterUrl);
    try {
      const offer = await runSleeper(app, "app-task");
      const maintenance = new MaintenanceClient({ master: c.masterUrl });
      const machine = { hostname: offer.hostname as string, ip: offer.url.address.ip as string };
      const progress: string[] = [];
      let restarts = 0;
      const done = drainAndRestart(
        { agentId, ...machine },
        async () => {
          restarts += 1;
          // Drained by now: no other framework's task is left.
          assert.deepEqual(await maintenance.activeTasks(agentId), []);
        },
        { maintenance, frameworkId: () => "scaleio-framework-id", checkEveryMs: 100 },
        { signal: new AbortController().signal, progress: (m) => progress.push(m) },
      );
      // The machine is DRAINING and the application gets an inverse offer; it moves its task.
      await waitUntil(async () => ((await maintenance.schedule()).windows ?? []).length === 1, {
        timeoutMs: 15_000,
        what: "the maintenance window",
      });
      await app.stream.next((e) => e.type === "INVERSE_OFFERS", 15_000);
      assert.equal(restarts, 0, "not restarted while a task runs");
      await app.call("KILL", { task_id: { value: "app-task" }, agent_id: { value: agentId } });
      await done;
      assert.equal(restarts, 1);
      assert.deepEqual((await maintenance.schedule()).windows ?? [], []);
      assert.ok(progress.some((p) => /waiting for 1 task/.test(p)));
      assert.ok(progress.some((p) => /maintenance window removed/.test(p)));
    } finally {
      await app.call("TEARDOWN");
      app.close();
    }
  },
);

test(
  "a drain that does not finish in time fails and restarts nothing",
  { timeout: 60_000 },
  async () => {
    const app = await Scheduler.subscribe(c.masterUrl);
    try {
      const offer = await runSleeper(app, "stubborn-task");
      const maintenance = new MaintenanceClient({ master: c.masterUrl });
      let restarts = 0;
      await assert.rejects(
        drainAndRestart(
          { agentId, hostname: offer.hostname, ip: offer.url.address.ip },
          async () => {
            restarts += 1;
          },
          { maintenance, frameworkId: () => undefined, checkEveryMs: 100, drainTimeoutMs: 1000 },
          { signal: new AbortController().signal, progress: () => undefined },
        ),
        (err: Error) => err instanceof DrainTimeoutError && /stubborn-task/.test(err.message),
      );
      assert.equal(restarts, 0);
      // The window stays (the retry keeps draining); the operator may release it.
      await maintenance.release({ hostname: offer.hostname, ip: offer.url.address.ip });
      assert.deepEqual((await maintenance.schedule()).windows ?? [], []);
    } finally {
      await app.call("TEARDOWN");
      app.close();
    }
  },
);
