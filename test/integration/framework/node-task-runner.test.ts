// Node steps as Mesos tasks on the development cluster: reservations on first use, one
// executor per agent reused by later steps, results and failures carried by status
// updates, SUPPRESS when idle, kill on abort, launch intents recorded before ACCEPT; one
// step task per agent at a time, leftover reservations given back, an executor launched
// with an older ExecutorInfo replaced before the next launch.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import {
  SchedulerClient,
  SchedulerEventPipeline,
  acknowledgeStage,
  type Operation,
} from "../../../src/mesos/index.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { NodeTaskError, NodeTaskRunner } from "../../../src/framework/node-task/runner.js";
import { PermanentStepError } from "../../../src/framework/plan/types.js";
import { waitForEvent, waitUntil } from "../../support/wait.js";
import { Scheduler as RawScheduler } from "../../sim/mesos/helpers.js";

/** The task ids of the launch records as stored (durable), whatever shard holds them. */
async function launchRecords(store: FileStateStore): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await store.list("task-records"))
    ids.push(...Object.keys((await store.get<Record<string, unknown>>(key)) ?? {}));
  return ids.sort();
}

/** The ExecutorInfo fingerprint stored for an agent, whatever shard holds it. */
async function storedFingerprint(store: FileStateStore, agentId: string): Promise<unknown> {
  for (const key of await store.list("executor-fingerprints")) {
    const fps = (await store.get<Record<string, unknown>>(key)) ?? {};
    if (agentId in fps) return fps[agentId];
  }
  return undefined;
}

const script = fileURLToPath(new URL("./fixtures/protocol-executor.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
let cluster: DevCluster;
let client: SchedulerClient;
let store: FileStateStore;
let runner: NodeTaskRunner;
const calls: string[] = [];
/** "accept <offer id>" / "decline <offer id>", in order. */
const offerCalls: string[] = [];
/** Part of the executor's environment: changing it makes a new, incompatible ExecutorInfo. */
let executorVersion = "1";

before(async () => {
  cluster = await startDevCluster({
    agents: 2,
    master: { heartbeatIntervalMs: 500, allocationIntervalMs: 50 },
    agent: { statusUpdateRetryMs: 300 },
  });
  store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "runner-")));
  client = new SchedulerClient({
    master: cluster.masterUrl,
    frameworkInfo: {
      user: "root",
      name: "runner-test",
      roles: ["scaleio"],
      principal: "scaleio-fw",
      checkpoint: true,
      failover_timeout: 600,
      capabilities: [
        { type: "MULTI_ROLE" },
        { type: "PARTITION_AWARE" },
        { type: "RESERVATION_REFINEMENT" },
      ],
    },
    persistFrameworkId: () => {},
    backoff: { initialMs: 50, maxMs: 500 },
  });
  for (const name of ["revive", "suppress", "accept", "decline"] as const) {
    const orig = client[name] as (...a: unknown[]) => Promise<void>;
    (client as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      if (name === "accept" || name === "decline") {
        for (const id of a[0] as { value: string }[]) offerCalls.push(`${name} ${id.value}`);
      }
      if (name !== "decline")
        calls.push(
          name === "accept" ? `accept:${(a[1] as Operation[]).map((o) => o.type).join("+")}` : name,
        );
      return orig(...a);
    };
  }
  runner = new NodeTaskRunner({
    client,
    store,
    role: "scaleio",
    principal: "scaleio-fw",
    owner: "runner-test",
    // Long enough for an executor to start on a loaded machine (a slow start is not a lost
    // launch); the lost-launch test waits it out once.
    launchTimeoutMs: 30_000,
    executorFor: (agentId) => ({
      info: {
        executor_id: { value: `scaleio-${agentId}` },
        name: "scaleio executor",
        command: {
          shell: false,
          value: process.execPath,
          arguments: [process.execPath, "--import", tsx, script],
          environment: { variables: [{ name: "EXECUTOR_VERSION", value: executorVersion }] },
        },
      },
      resources: { cpus: 0.5, memMb: 128 },
    }),
  });
  // The runner sees Mesos events through the pipeline, as in the scheduler.
  const pipeline = new SchedulerEventPipeline({
    stages: [runner.stage(), acknowledgeStage(client)],
  });
  client.on("event", (e) => pipeline.push(e));
  client.on("disconnected", () => runner.onDisconnected());
  const subscribed = waitForEvent(client, "subscribed", { timeoutMs: 10_000 });
  client.start();
  await subscribed;
});

after(async () => {
  await client?.stop();
  await cluster?.stop();
  await store?.close();
});

const agentIds = async () => Promise.all(cluster.agents.map((a) => a.id()));

/** Whether offers are suppressed now: the newest of the SUPPRESS and REVIVE calls is one. */
const suppressedNow = () =>
  calls.filter((c) => c === "suppress" || c === "revive").at(-1) === "suppress";

/**
 * Waits for offers to be suppressed (a quiet second after the last work: an idle offer's
 * hold, its decline, then the quiet time), saying what the runner did last if not. A state,
 * not the newest call: a step that ran past the quiet time (an executor starting on a busy
 * machine) lets the runner suppress while it runs, and the next step may then launch from an
 * offer it holds, after which nothing needs suppressing again.
 */
async function suppressedAgain(what: string): Promise<void> {
  await waitUntil(suppressedNow, { timeoutMs: 20_000, what }).catch((err: Error) => {
    throw new Error(`${err.message}; last calls: ${calls.slice(-8).join(", ")}`);
  });
}

test(
  "a step runs on the agent's executor; resources are reserved once and the executor is reused",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    const progress: string[] = [];
    const r1 = (await runner.run(
      a0!,
      { stepId: "facts/a0", attempt: 1, kind: "test.echo", params: { x: 1 } },
      { progress: (m) => progress.push(m) },
    )) as { params: unknown; pid: number };
    assert.deepEqual(r1.params, { x: 1 });
    assert.deepEqual(progress, ["running test.echo"]);
    const r2 = (await runner.run(a0!, {
      stepId: "facts/a0",
      attempt: 2,
      kind: "test.echo",
      params: { x: 2 },
    })) as { params: unknown; pid: number };
    assert.equal(r2.pid, r1.pid, "the second step ran on the same executor process");
    assert.deepEqual(
      calls.filter((c) => c.startsWith("accept")),
      ["accept:RESERVE+LAUNCH", "accept:LAUNCH"],
    );
    // Our reservation is visible in the master's state with our label.
    const state = (await (await fetch(`${cluster.masterUrl}/state`)).json()) as {
      slaves: {
        id: string;
        reserved_resources_full?: Record<
          string,
          { reservations?: { labels?: { labels: { key: string; value: string }[] } }[] }[]
        >;
      }[];
    };
    const agent = state.slaves.find((s) => s.id === a0);
    assert.ok(
      JSON.stringify(agent).includes('"scaleio-framework"'),
      "reservation labelled as ours",
    );
    assert.deepEqual(await launchRecords(store), [], "finished tasks leave no launch record");
    // No work left: offers are suppressed after a quiet second.
    await suppressedAgain("SUPPRESS once nothing waits");
  },
);

test(
  "an idle agent's offer is kept a moment: a step due meanwhile runs on it, no REVIVE; unused, it is declined",
  { timeout: 60_000 },
  async (t) => {
    const [, a1] = await agentIds();
    // A step waits for an agent that is not there: the runner keeps asking for offers (with
    // nothing waiting it would suppress them, and no offer would come to be kept).
    const ghost = new AbortController();
    const waiting = runner.run(
      "no-such-agent",
      { stepId: "hold/ghost", attempt: 1, kind: "test.echo", params: 0 },
      { signal: ghost.signal },
    );
    // Whatever happens below, the ghost must not keep the runner wanting offers for the
    // tests after this one.
    t.after(() => ghost.abort(new Error("done")));
    await runner.run(a1!, { stepId: "hold/first", attempt: 1, kind: "test.echo", params: 0 });
    // The agent's offer after its task ended finds nothing to run: it is kept.
    await waitUntil(() => runner.heldOffers().has(a1!), {
      timeoutMs: 10_000,
      what: "the idle agent's offer kept",
    });
    const mark = calls.length;
    const keptForSecond = runner.heldOffers().get(a1!)!;
    const second = await runner.run(a1!, {
      stepId: "hold/second",
      attempt: 1,
      kind: "test.echo",
      params: 2,
    });
    assert.equal((second as { params: unknown }).params, 2);
    assert.ok(!calls.slice(mark).includes("revive"), "no REVIVE was needed");
    // (Other agents' idle offers may be declined meanwhile: only this one counts.)
    assert.ok(offerCalls.includes(`accept ${keptForSecond}`), "the kept offer was used");
    assert.ok(!offerCalls.includes(`decline ${keptForSecond}`), "the kept offer was not declined");
    // Nothing more to run there: after the hold (1 s) the next idle offer is declined.
    await waitUntil(() => runner.heldOffers().has(a1!), {
      timeoutMs: 10_000,
      what: "the next idle offer kept",
    });
    const kept = runner.heldOffers().get(a1!)!;
    await waitUntil(() => offerCalls.includes(`decline ${kept}`), {
      timeoutMs: 10_000,
      what: "the unused offer declined",
    });
    assert.notEqual(runner.heldOffers().get(a1!), kept, "no longer kept");
    ghost.abort(new Error("done"));
    await assert.rejects(waiting, /done/);
  },
);

test("steps one after the other: offers are not suppressed and revived between them", async () => {
  const [a0] = await agentIds();
  await suppressedAgain("a quiet start");
  const mark = calls.length;
  for (const n of [1, 2, 3])
    await runner.run(a0!, { stepId: `chain/${n}`, attempt: 1, kind: "test.echo", params: n });
  const between = calls.slice(mark).filter((c) => c === "revive" || c === "suppress");
  assert.deepEqual(between, ["revive"], "one REVIVE for the first step, then none");
});

test("steps on different agents run side by side", { timeout: 60_000 }, async () => {
  const [a0, a1] = await agentIds();
  const [x, y] = await Promise.all([
    runner.run(a0!, { stepId: "par/a0", attempt: 1, kind: "test.echo", params: "a" }),
    runner.run(a1!, { stepId: "par/a1", attempt: 1, kind: "test.echo", params: "b" }),
  ]);
  assert.deepEqual(
    [(x as { params: unknown }).params, (y as { params: unknown }).params],
    ["a", "b"],
  );
});

test(
  "failures come back typed: retryable, or permanent for the plan engine",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    await assert.rejects(
      runner.run(a0!, { stepId: "fail/a0", attempt: 1, kind: "test.fail", params: {} }),
      (e: unknown) =>
        e instanceof NodeTaskError &&
        !e.permanent &&
        e.state === "TASK_FAILED" &&
        /failed on purpose/.test(e.message),
    );
    await assert.rejects(
      runner.run(a0!, {
        stepId: "fail/a0",
        attempt: 2,
        kind: "test.fail",
        params: { permanent: true },
      }),
      (e: unknown) => e instanceof PermanentStepError && /failed on purpose/.test(e.message),
    );
  },
);

test("aborting a running step kills its task", { timeout: 60_000 }, async () => {
  const [a1] = (await agentIds()).slice(1);
  const ac = new AbortController();
  const killed = waitForEvent<[{ task_id: { value: string }; state: string }]>(client, "update", {
    timeoutMs: 20_000,
    filter: (s) => s.task_id.value === "hang_a1.1" && s.state === "TASK_KILLED",
  });
  const running = waitForEvent<[{ task_id: { value: string }; state: string }]>(client, "update", {
    timeoutMs: 20_000,
    filter: (s) => s.task_id.value === "hang_a1.1" && s.state === "TASK_RUNNING",
  });
  const p = runner.run(
    a1!,
    { stepId: "hang/a1", attempt: 1, kind: "test.hang", params: {} },
    { signal: ac.signal },
  );
  await running;
  assert.deepEqual(await launchRecords(store), ["hang_a1.1"], "the launch was recorded");
  ac.abort(new Error("operator restarted the step"));
  await assert.rejects(p, /operator restarted the step/);
  await killed;
});

type Status = { task_id: { value: string }; state: string; agent_id?: { value: string } };

/** Our role's reservations on an agent, from the master's state. */
async function reservedOn(agentId: string): Promise<{ cpus: number; memMb: number }> {
  const state = (await (await fetch(`${cluster.masterUrl}/state`)).json()) as {
    slaves: {
      id: string;
      reserved_resources_full?: Record<string, { name: string; scalar?: { value: number } }[]>;
    }[];
  };
  const rs = state.slaves.find((a) => a.id === agentId)?.reserved_resources_full?.scaleio ?? [];
  const sum = (n: string) =>
    Math.round(
      rs.filter((r) => r.name === n).reduce((t, r) => t + (r.scalar?.value ?? 0), 0) * 1000,
    ) / 1000;
  return { cpus: sum("cpus"), memMb: sum("mem") };
}

test(
  "two steps for one agent run one after the other; the reservation stays the executor's plus one task's",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    const ac = new AbortController();
    const running = waitForEvent<[Status]>(client, "update", {
      timeoutMs: 20_000,
      filter: (s) => s.task_id.value === "serial_hang.1" && s.state === "TASK_RUNNING",
    });
    const hang = runner.run(
      a0!,
      { stepId: "serial/hang", attempt: 1, kind: "test.hang", params: {} },
      { signal: ac.signal },
    );
    await running;
    const launchesBefore = calls.filter((c) => c.startsWith("accept")).length;
    const echo = runner.run(a0!, {
      stepId: "serial/echo",
      attempt: 1,
      kind: "test.echo",
      params: 1,
    });
    // Offers of the busy agent keep coming (each refused for a few seconds) and are turned
    // down; nothing launches beside it.
    for (let i = 0; i < 2; i++) {
      await waitForEvent<[{ agent_id: { value: string } }[]]>(client, "offers", {
        timeoutMs: 10_000,
        filter: (offers) => offers.some((o) => o.agent_id.value === a0),
      });
    }
    assert.equal(calls.filter((c) => c.startsWith("accept")).length, launchesBefore);
    assert.deepEqual(await launchRecords(store), ["serial_hang.1"]);
    ac.abort(new Error("done waiting"));
    await assert.rejects(hang, /done waiting/);
    assert.equal(((await echo) as { params: unknown }).params, 1);
    assert.deepEqual(await reservedOn(a0!), { cpus: 0.55, memMb: 160 });
  },
);

test(
  "reserved resources left over beyond the executor and one task are given back (while the agent idles, or with the next launch)",
  { timeout: 60_000 },
  async () => {
    const [, a1] = await agentIds();
    await runner.run(a1!, { stepId: "extra/first", attempt: 1, kind: "test.echo", params: 0 });
    const before = calls.length;
    // Another subscriber of the role leaves a reservation labelled as ours (as a scheduler
    // process killed between its RESERVE and its launch would).
    const other = await RawScheduler.subscribe(cluster.masterUrl, {
      user: "root",
      name: "leftover-maker",
      roles: ["scaleio"],
      principal: "scaleio-fw",
      checkpoint: true,
      capabilities: [{ type: "MULTI_ROLE" }, { type: "RESERVATION_REFINEMENT" }],
    });
    try {
      const offer = (await other.offers(2)).find((o) => o.agent_id.value === a1);
      assert.ok(offer, "an offer for the agent");
      const extra = [
        { name: "cpus", value: 0.3 },
        { name: "mem", value: 64 },
      ].map(({ name, value }) => ({
        name,
        type: "SCALAR",
        scalar: { value },
        allocation_info: { role: "scaleio" },
        reservations: [
          {
            type: "DYNAMIC",
            role: "scaleio",
            principal: "scaleio-fw",
            labels: { labels: [{ key: "scaleio-framework", value: "runner-test" }] },
          },
        ],
      }));
      const r = await other.call("ACCEPT", {
        offer_ids: [offer.id],
        operations: [{ type: "RESERVE", reserve: { resources: extra } }],
        filters: { refuse_seconds: 60 },
      });
      assert.equal(r.status, 202);
    } finally {
      await other.call("TEARDOWN");
      other.close();
    }
    // The leftover shows up in the agent's next offer: unreserved at once if the agent is
    // idle then, or in the same ACCEPT as the next launch.
    await runner.run(a1!, { stepId: "extra/second", attempt: 1, kind: "test.echo", params: 0 });
    const accepts = calls.slice(before).filter((c) => c.startsWith("accept"));
    assert.ok(
      accepts.some((c) => c === "accept:UNRESERVE" || c === "accept:UNRESERVE+LAUNCH"),
      accepts.join(", "),
    );
    assert.ok(
      !accepts.some((c) => c.includes("RESERVE+") && !c.includes("UNRESERVE")),
      `nothing reserved anew: ${accepts.join(", ")}`,
    );
    assert.deepEqual(await reservedOn(a1!), { cpus: 0.55, memMb: 160 });
  },
);

test(
  "an executor launched with an older ExecutorInfo is shut down and replaced before the next step",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    const first = (await runner.run(a0!, {
      stepId: "upgrade/before",
      attempt: 1,
      kind: "test.echo",
      params: 0,
    })) as { pid: number };
    const errors: string[] = [];
    const onUpdate = (s: Status) => {
      if (s.state === "TASK_ERROR") errors.push(s.task_id.value);
    };
    client.on("update", onUpdate);
    const fpBefore = await storedFingerprint(store, a0!);
    assert.ok(fpBefore, "the executor's fingerprint was recorded");
    executorVersion = "2";
    try {
      const second = (await runner.run(a0!, {
        stepId: "upgrade/after",
        attempt: 1,
        kind: "test.echo",
        params: 0,
      })) as { pid: number };
      assert.notEqual(second.pid, first.pid, "a new executor process ran the step");
      assert.deepEqual(errors, [], "Mesos never refused a task for an incompatible executor");
      assert.notEqual(await storedFingerprint(store, a0!), fpBefore, "the new one is remembered");
    } finally {
      client.off("update", onUpdate);
      executorVersion = "1";
    }
  },
);

test(
  "an ACCEPT left unanswered fails the attempt, not the step: the retry runs under a new task id",
  { timeout: 60_000 },
  async () => {
    const [, a1] = await agentIds();
    const accept = client.accept.bind(client);
    let answered = false;
    client.accept = async (...args: Parameters<typeof client.accept>) => {
      await accept(...args);
      if (answered) return;
      answered = true;
      // Delivered, but the answer is lost (as with a timeout on a busy master).
      throw new Error("POST /api/v1/scheduler timed out after 75000 ms");
    };
    try {
      await assert.rejects(
        runner.run(a1!, { stepId: "unanswered/a1", attempt: 1, kind: "test.echo", params: 1 }),
        (e: unknown) =>
          e instanceof NodeTaskError && !e.permanent && /not confirmed by Mesos/.test(e.message),
      );
    } finally {
      client.accept = accept;
    }
    const errors: string[] = [];
    const onUpdate = (s: Status) => {
      if (s.state === "TASK_ERROR") errors.push(`${s.task_id.value}`);
    };
    client.on("update", onUpdate);
    try {
      const r = (await runner.run(a1!, {
        stepId: "unanswered/a1",
        attempt: 2,
        kind: "test.echo",
        params: 2,
      })) as { params: unknown };
      assert.equal(r.params, 2);
      assert.deepEqual(errors, [], "no duplicate task id");
    } finally {
      client.off("update", onUpdate);
    }
  },
);

test(
  "a launch Mesos never reports on (lost on its way to the agent) is given up and retried",
  { timeout: 120_000 },
  async () => {
    const [a0] = await agentIds();
    cluster.dropLaunches(1);
    await assert.rejects(
      runner.run(a0!, { stepId: "lost/a0", attempt: 1, kind: "test.echo", params: 1 }),
      (e: unknown) => e instanceof NodeTaskError && !e.permanent && /still staging/.test(e.message),
    );
    const r = (await runner.run(a0!, {
      stepId: "lost/a0",
      attempt: 2,
      kind: "test.echo",
      params: 2,
    })) as { params: unknown };
    assert.equal(r.params, 2);
  },
);

test(
  "release: the agent's executor is shut down and every reservation of ours there unreserved; a later step reserves again",
  { timeout: 60_000 },
  async () => {
    const [, a1] = await agentIds();
    await runner.run(a1!, { stepId: "before/a1", attempt: 1, kind: "test.echo", params: 1 });
    type State = {
      slaves: { id: string; reserved_resources_full?: Record<string, unknown[]> }[];
      frameworks: { executors: { slave_id: string }[] }[];
    };
    const state = async () => (await (await fetch(`${cluster.masterUrl}/state`)).json()) as State;
    const held = (s: State) => ({
      reserved: (s.slaves.find((x) => x.id === a1)?.reserved_resources_full?.scaleio ?? []).length,
      executors: s.frameworks.flatMap((f) => f.executors).filter((e) => e.slave_id === a1).length,
    });
    assert.ok(held(await state()).reserved > 0, "reserved before");
    assert.equal(held(await state()).executors, 1, "our executor runs there before");
    const progress: string[] = [];
    await runner.release(a1!, { progress: (m) => progress.push(m) });
    assert.deepEqual(held(await state()), { reserved: 0, executors: 0 });
    assert.ok(progress.includes("shutting down the executor"), progress.join("; "));
    assert.ok(
      progress.some((m) => /^unreserving/.test(m)),
      progress.join("; "),
    );
    // Nothing left to give back: at once.
    await runner.release(a1!);
    const accepts = calls.filter((c) => c.startsWith("accept")).length;
    await runner.run(a1!, { stepId: "after/a1", attempt: 1, kind: "test.echo", params: 2 });
    assert.deepEqual(
      calls.filter((c) => c.startsWith("accept")).slice(accepts),
      ["accept:RESERVE+LAUNCH"],
      "reserved again on first use",
    );
    // Aborted: rejects with the signal's reason.
    const ac = new AbortController();
    const p = runner.release(a1!, { signal: ac.signal });
    ac.abort(new Error("stop"));
    await assert.rejects(p, /stop/);
  },
);
