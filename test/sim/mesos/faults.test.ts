// Section 11 items 6, 12, 13, 14: agent partition and return, agent loss, reconciliation
// answers, dropped/delayed status updates, and master failover (307/503, state rebuilt
// from re-registering agents), using the fault-injection API over HTTP and from code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { FRAMEWORK, Scheduler, http, until, type Ev } from "./helpers.js";

let c: DevCluster;
let s: Scheduler;
let ids: string[];
const used = new Set<string>();

before(async () => {
  c = await startDevCluster({
    agents: 3,
    master: {
      allocationIntervalMs: 100,
      agentPingIntervalMs: 100,
      agentPingTimeoutMs: 150,
      maxAgentPingTimeouts: 3,
      agentReregisterTimeoutMs: 20_000,
    },
    agent: { statusUpdateRetryMs: 300, registrationBackoffMs: 100 },
  });
  ids = await Promise.all(c.agents.map((a) => a.id()));
  s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, failover_timeout: 600 });
});
after(async () => {
  s?.close();
  await c.stop();
});

async function launchCommand(
  sched: Scheduler,
  agent: number,
  taskId: string,
  cmd = "sleep 60",
): Promise<void> {
  let offers: Ev[] = [];
  await until(
    async () => {
      offers = (await sched.offers(1, 5000)).filter(
        (o) => o.agent_id.value === ids[agent] && !used.has(o.id.value),
      );
      return offers.length > 0;
    },
    30_000,
    "an offer",
  );
  for (const o of offers) used.add(o.id.value);
  await sched.call("ACCEPT", {
    offer_ids: offers.map((o) => o.id),
    operations: [
      {
        type: "LAUNCH",
        launch: {
          task_infos: [
            {
              name: taskId,
              task_id: { value: taskId },
              agent_id: { value: ids[agent] },
              resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
              command: { value: cmd },
            },
          ],
        },
      },
    ],
    filters: { refuse_seconds: 0 },
  });
}

async function running(sched: Scheduler, taskId: string, from = 0): Promise<Ev> {
  await sched.ack(
    await sched.update(
      (u) => u.task_id.value === taskId && u.state === "TASK_STARTING",
      10_000,
      from,
    ),
  );
  const r = await sched.update(
    (u) => u.task_id.value === taskId && u.state === "TASK_RUNNING",
    30_000,
    from,
  );
  await sched.ack(r);
  return r;
}

const post = (path: string, body: object = {}) => http(`${c.masterUrl}${path}`, { body });

test("11.12/11.13: partition: TASK_UNREACHABLE, FAILURE and RESCIND; return: REASON_AGENT_REREGISTERED", async () => {
  const mark = s.stream.events.length;
  await launchCommand(s, 0, "part-t");
  await running(s, "part-t", mark);
  // Hold an offer from agent 0 so its rescind can be seen.
  await until(async () =>
    (await s.offers(1, 5000, mark)).some(
      (o) => o.agent_id.value === ids[0] && !used.has(o.id.value),
    ),
  );
  const m2 = s.stream.events.length;
  assert.equal((await post("/sim/agents/0/partition")).status, 200);
  const unreachable = await s.update((u) => u.task_id.value === "part-t", 10_000, m2);
  assert.equal(unreachable.state, "TASK_UNREACHABLE");
  assert.equal(unreachable.reason, "REASON_AGENT_REMOVED");
  assert.equal(unreachable.source, "SOURCE_MASTER");
  assert.equal(unreachable.uuid, undefined);
  assert.equal(typeof unreachable.unreachable_time.nanoseconds, "number");
  assert.ok(
    unreachable.unreachable_time.nanoseconds > 1.7e18,
    "epoch nanoseconds as a bare number",
  );
  await s.stream.next(
    (e) => e.type === "FAILURE" && e.failure.agent_id.value === ids[0] && !e.failure.executor_id,
    5000,
    m2,
  );
  await s.stream.next((e) => e.type === "RESCIND", 5000, m2);
  // Explicit reconciliation of an unknown task on the unreachable agent.
  await s.call("RECONCILE", {
    tasks: [{ task_id: { value: "never" }, agent_id: { value: ids[0] } }],
  });
  const rec = await s.update((u) => u.task_id.value === "never", 5000, m2);
  assert.equal(rec.state, "TASK_UNREACHABLE");
  assert.equal(rec.reason, "REASON_RECONCILIATION");
  const m3 = s.stream.events.length;
  assert.equal((await post("/sim/agents/0/heal")).status, 200);
  const back = await s.update((u) => u.task_id.value === "part-t", 10_000, m3);
  assert.equal(back.state, "TASK_RUNNING");
  assert.equal(back.reason, "REASON_AGENT_REREGISTERED");
});

test("11.12: reconciliation answers: implicit, known, and unknown tasks by agent state", async () => {
  const legacy = await Scheduler.subscribe(c.masterUrl, {
    user: "u",
    name: "legacy",
    capabilities: [],
  });
  try {
    const mark = s.stream.events.length;
    await s.call("RECONCILE", { tasks: [] });
    const implicit = await s.update((u) => u.task_id.value === "part-t", 5000, mark);
    assert.equal(implicit.state, "TASK_RUNNING");
    assert.equal(implicit.reason, "REASON_RECONCILIATION");
    assert.equal(implicit.source, "SOURCE_MASTER");
    assert.equal(implicit.uuid, undefined);
    assert.equal(implicit.data, undefined);
    await s.call("RECONCILE", {
      tasks: [
        { task_id: { value: "part-t" } },
        { task_id: { value: "ghost" }, agent_id: { value: ids[1] } },
        { task_id: { value: "phantom" }, agent_id: { value: "no-such-agent" } },
      ],
    });
    assert.equal(
      (await s.update((u) => u.task_id.value === "ghost", 5000, mark)).state,
      "TASK_GONE",
    );
    assert.equal(
      (await s.update((u) => u.task_id.value === "phantom", 5000, mark)).state,
      "TASK_UNKNOWN",
    );
    await legacy.call("RECONCILE", {
      tasks: [{ task_id: { value: "ghost" }, agent_id: { value: ids[1] } }],
    });
    assert.equal((await legacy.update((u) => u.task_id.value === "ghost")).state, "TASK_LOST");
    // KILL of an unknown task is answered like a reconciliation.
    await s.call("KILL", { task_id: { value: "ghost2" }, agent_id: { value: ids[1] } });
    assert.equal(
      (await s.update((u) => u.task_id.value === "ghost2", 5000, mark)).state,
      "TASK_GONE",
    );
  } finally {
    await legacy.call("TEARDOWN");
    legacy.close();
  }
});

test("status updates dropped by the master are re-sent by the agent; delays are honoured", async () => {
  assert.equal((await post("/sim/status-updates", { drop: 1 })).status, 200);
  const mark = s.stream.events.length;
  const t0 = Date.now();
  await launchCommand(s, 1, "drop-t", "true");
  const first = await s.update((u) => u.task_id.value === "drop-t", 10_000, mark);
  assert.equal(first.state, "TASK_STARTING");
  assert.ok(Date.now() - t0 >= 250, "arrived only through the agent's retry");
  assert.equal(c.master.faults.dropUpdates, 0);
  await s.terminal("drop-t", 10_000, mark);
  c.delayStatusUpdates(300);
  const m2 = s.stream.events.length;
  const t1 = Date.now();
  await launchCommand(s, 1, "delay-t", "true");
  await s.update((u) => u.task_id.value === "delay-t", 10_000, m2);
  assert.ok(Date.now() - t1 >= 300);
  c.delayStatusUpdates(0);
  await s.terminal("delay-t", 10_000, m2);
});

test("a launch lost on its way to the agent stays staging; a KILL then gets TASK_DROPPED from the agent", async () => {
  c.dropLaunches(1);
  const mark = s.stream.events.length;
  await launchCommand(s, 1, "lost-launch-t", "sleep 30");
  const state = (await (await fetch(`${c.masterUrl}/state`)).json()) as {
    frameworks: { tasks: { id: string; state: string }[] }[];
  };
  const t = state.frameworks.flatMap((f) => f.tasks).find((x) => x.id === "lost-launch-t");
  assert.equal(t?.state, "TASK_STAGING");
  const r = await s.call("KILL", {
    task_id: { value: "lost-launch-t" },
    agent_id: { value: ids[1] },
  });
  assert.equal(r.status, 202);
  const end = await s.terminal("lost-launch-t", 10_000, mark);
  assert.equal(end.state, "TASK_DROPPED");
  assert.equal(end.source, "SOURCE_AGENT");
  assert.equal(end.message, "Cannot find executor");
});

test("11.6: a checkpointing framework's tasks survive an agent crash; a legacy one gets TASK_LOST", async () => {
  const legacy = await Scheduler.subscribe(c.masterUrl, {
    user: "u",
    name: "legacy",
    checkpoint: false,
    capabilities: [],
  });
  try {
    const mark = s.stream.events.length;
    await launchCommand(s, 1, "ck-t");
    await running(s, "ck-t", mark);
    // The legacy framework gets agent 1 once it is freed by the other.
    await s.call("SUPPRESS");
    const held = s.liveOffers().filter((x) => !used.has(x.id.value));
    for (const o of held) used.add(o.id.value);
    if (held.length)
      await s.call("DECLINE", {
        offer_ids: held.map((o) => o.id),
        filters: { refuse_seconds: 60 },
      });
    await launchCommand(legacy, 1, "legacy-t");
    await running(legacy, "legacy-t");
    const m2 = s.stream.events.length;
    // A restart takes about a second here: keep health checks from declaring the agent
    // unreachable meanwhile (real Mesos allows 75 s).
    c.master.opts.maxAgentPingTimeouts = 100;
    await c.agents[1]!.kill();
    const lost = await legacy.update(
      (u) => u.task_id.value === "legacy-t" && u.state === "TASK_LOST",
    );
    assert.equal(lost.reason, "REASON_AGENT_DISCONNECTED");
    await c.agents[1]!.restart();
    await until(
      async () => ((await c.agents[1]!.state()) as Ev)?.registered === true,
      10_000,
      "agent 1 to re-register",
    );
    const bad = s.stream.events
      .slice(m2)
      .filter(
        (e) =>
          e.type === "UPDATE" &&
          e.update.status.task_id.value === "ck-t" &&
          e.update.status.state !== "TASK_RUNNING",
      );
    assert.deepEqual(
      bad.map((e) => e.update.status),
      [],
      "the checkpointing framework's task was never reported lost",
    );
    await s.call("RECONCILE", { tasks: [{ task_id: { value: "ck-t" } }] });
    assert.equal(
      (
        await s.update(
          (u) => u.task_id.value === "ck-t" && u.reason === "REASON_RECONCILIATION",
          5000,
          m2,
        )
      ).state,
      "TASK_RUNNING",
    );
  } finally {
    c.master.opts.maxAgentPingTimeouts = 3;
    await legacy.call("TEARDOWN");
    legacy.close();
    await s.call("REVIVE");
  }
});

test("11.14: host reboot: a new agent id, dynamic reservations kept", async () => {
  const mark = s.stream.events.length;
  let offers: Ev[] = [];
  await until(
    async () => {
      offers = (await s.offers(1, 5000, 0)).filter(
        (o) => o.agent_id.value === ids[1] && !used.has(o.id.value),
      );
      return offers.length > 0;
    },
    30_000,
    "an offer from agent 1",
  );
  for (const o of offers) used.add(o.id.value);
  const reservation = {
    type: "DYNAMIC",
    role: "storage",
    labels: { labels: [{ key: "claim", value: "reboot" }] },
  };
  await s.call("ACCEPT", {
    offer_ids: offers.map((o) => o.id),
    operations: [
      {
        type: "RESERVE",
        reserve: {
          resources: [
            { name: "cpus", type: "SCALAR", scalar: { value: 1 }, reservations: [reservation] },
          ],
        },
      },
    ],
    filters: { refuse_seconds: 0 },
  });
  // The agent checkpoints the reservation (asynchronously) before the host goes down.
  await until(
    async () => {
      const st = (await c.agents[1]!.state()) as Ev | null;
      return !!st?.resources.some(
        (r: Ev) => r.reservations?.[0]?.labels?.labels?.[0]?.value === "reboot",
      );
    },
    30_000,
    "the agent to checkpoint the reservation",
  );
  const before = s.stream.events.length;
  await c.agents[1]!.reboot();
  const newId = await c.agents[1]!.id();
  // The task that ran on the old agent id is certainly gone.
  const gone = await s.update(
    (u) => u.task_id.value === "ck-t" && u.state === "TASK_GONE",
    30_000,
    before,
  );
  assert.equal(gone.agent_id.value, ids[1]);
  assert.notEqual(newId, ids[1]);
  await until(
    async () => {
      const o = (await s.offers(1, 10_000, mark)).find((x) => x.agent_id.value === newId);
      return !!o?.resources.some(
        (r: Ev) => r.reservations?.[0]?.labels?.labels?.[0]?.value === "reboot",
      );
    },
    30_000,
    "the reservation under the new agent id",
  );
  ids[1] = newId;
});

test("11.14: master failover: 307 with a scheme-relative Location, state rebuilt from agents, no answer while recovering, then 503", async () => {
  const old = c.master;
  await c.agents[2]!.partition(); // stays "recovering" at the new master
  const res = await post("/sim/master/failover", { mode: "redirect" });
  assert.equal(res.status, 200);
  const next = c.master;
  assert.notEqual(next.id, old.id);
  const redirected = await http(`${old.url}/api/v1/scheduler`, {
    body: { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } },
  });
  assert.equal(redirected.status, 307);
  assert.equal(
    redirected.headers.location,
    `//${next.info.hostname}:${next.info.port}/api/v1/scheduler`,
  );
  const r = await http(`${old.url}/redirect`, { method: "GET" });
  assert.equal(r.headers.location, `//${next.info.hostname}:${next.info.port}`);
  await s.stream.waitClosed();
  s = await Scheduler.subscribe(next.url, {
    ...FRAMEWORK,
    failover_timeout: 600,
    id: { value: s.frameworkId },
  });
  assert.equal(s.stream.events[0]!.subscribed.master_info.id, next.id);
  // Agent 0 re-registers with the new master; agent 2 (partitioned) stays "recovering".
  await until(
    async () => {
      const st = JSON.parse((await http(`${next.url}/state`, { method: "GET" })).body);
      return st.slaves.some((a: Ev) => a.id === ids[0] && a.active);
    },
    30_000,
    "agent 0 to re-register",
  );
  await s.call("RECONCILE", {
    tasks: [
      { task_id: { value: "quiet" }, agent_id: { value: ids[2] } },
      { task_id: { value: "loud" }, agent_id: { value: ids[0] } },
    ],
  });
  const loud = await s.update((u) => u.task_id.value === "loud");
  assert.equal(loud.state, "TASK_GONE");
  assert.equal(
    s.stream.events.some((e) => e.type === "UPDATE" && e.update.status.task_id.value === "quiet"),
    false,
  );
  // The task on agent 0 reappears once the agent re-registers.
  await until(
    async () => {
      const st = JSON.parse((await http(`${next.url}/state`, { method: "GET" })).body);
      return st.frameworks[0]?.tasks.some(
        (t: Ev) => t.id === "part-t" && t.state === "TASK_RUNNING",
      );
    },
    30_000,
    "the task to reappear",
  );
  await c.agents[2]!.heal();
  await until(
    async () => {
      const st = JSON.parse((await http(`${next.url}/state`, { method: "GET" })).body);
      return st.slaves.length === 3 && st.recovered_slaves.length === 0;
    },
    30_000,
    "all agents to re-register",
  );
  // Failing over with the old leader knowing no leader: 503.
  await c.failoverMaster("unavailable");
  const unavailable = await http(`${next.url}/api/v1/scheduler`, {
    body: { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } },
  });
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.body, "No leader elected");
});
