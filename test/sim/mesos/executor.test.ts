// Section 11 items 11, 13, 15 and 16: custom executors as real processes, the executor
// API, reliable status updates, executor exit, and agent restart with resubscription.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { Scheduler, http, until, type Ev } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/test-executor.mjs", import.meta.url));

let c: DevCluster;
let s: Scheduler;
let agentIds: string[];

before(async () => {
  c = await startDevCluster({
    agents: 2,
    master: { allocationIntervalMs: 100 },
    agent: {
      statusUpdateRetryMs: 300,
      executorReregistrationTimeoutMs: 1500,
      executorShutdownGracePeriodMs: 1000,
      registrationBackoffMs: 100,
    },
  });
  agentIds = await Promise.all(c.agents.map((a) => a.id()));
  s = await Scheduler.subscribe(c.masterUrl);
});
after(async () => {
  if (process.env.DEBUG_SIM) {
    for (const e of s.stream.events)
      if (e.type === "UPDATE") console.log(JSON.stringify(e.update.status));
  }
  s?.close();
  await c.stop();
});

function executor(id: string, extra: object = {}) {
  return {
    type: "CUSTOM",
    executor_id: { value: id },
    name: "test executor",
    command: {
      shell: false,
      value: process.execPath,
      arguments: ["node", FIXTURE],
      environment: { variables: [{ name: "TEST_MARK", value: id }] },
    },
    resources: [{ name: "mem", type: "SCALAR", scalar: { value: 32 } }],
    ...extra,
  };
}

function task(id: string, agentId: string, exec: object, data?: object) {
  return {
    name: id,
    task_id: { value: id },
    agent_id: { value: agentId },
    resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.5 } }],
    executor: exec,
    ...(data ? { data: Buffer.from(JSON.stringify(data)).toString("base64") } : {}),
  };
}

/** Launches on the given agent with every outstanding offer for it (offers can be split). */
async function launch(agentIndex: number, tasks: object[]): Promise<void> {
  const agentId = agentIds[agentIndex]!;
  let offers: Ev[] = [];
  await until(
    async () => {
      offers = (await s.offers(1, 5000)).filter(
        (o) => o.agent_id.value === agentId && !used.has(o.id.value),
      );
      return offers.length > 0;
    },
    10_000,
    "an offer",
  );
  for (const o of offers) used.add(o.id.value);
  const r = await s.call("ACCEPT", {
    offer_ids: offers.map((o) => o.id),
    operations: [{ type: "LAUNCH", launch: { task_infos: tasks } }],
    filters: { refuse_seconds: 0 },
  });
  assert.equal(r.status, 202);
}
const used = new Set<string>();

async function agentState(i: number): Promise<Ev> {
  return (await c.agents[i]!.state()) as Ev;
}

async function sandboxOf(i: number, executorId: string): Promise<string> {
  const st = await agentState(i);
  for (const f of st.frameworks)
    for (const e of f.executors) if (e.id === executorId) return e.directory;
  throw new Error(`no executor ${executorId}`);
}

test("11.15: a custom executor runs as a process with the MESOS_* environment and its own process group", async () => {
  const mark = s.stream.events.length;
  await launch(0, [task("e1-t1", agentIds[0]!, executor("exec-1"))]);
  const running = await s.update((u) => u.task_id.value === "e1-t1", 15_000, mark);
  assert.equal(running.state, "TASK_RUNNING");
  assert.equal(running.source, "SOURCE_EXECUTOR");
  assert.equal(Buffer.from(running.uuid, "base64").length, 16);
  assert.equal(running.executor_id.value, "exec-1");
  assert.equal(running.agent_id.value, agentIds[0]);
  await s.ack(running);
  const sandbox = await sandboxOf(0, "exec-1");
  const env = JSON.parse(readFileSync(join(sandbox, "env.json"), "utf8"));
  assert.equal(env.MESOS_FRAMEWORK_ID, s.frameworkId);
  assert.equal(env.MESOS_EXECUTOR_ID, "exec-1");
  assert.equal(env.MESOS_AGENT_ENDPOINT, `${c.agents[0]!.host}:${c.agents[0]!.port}`);
  assert.equal(env.MESOS_SLAVE_ID, agentIds[0]);
  assert.equal(env.MESOS_SLAVE_PID, `slave(1)@${c.agents[0]!.host}:${c.agents[0]!.port}`);
  assert.equal(env.MESOS_SANDBOX, sandbox);
  assert.equal(env.MESOS_DIRECTORY, sandbox);
  assert.equal(env.MESOS_CHECKPOINT, "1");
  assert.equal(env.MESOS_RECOVERY_TIMEOUT, "15mins");
  assert.match(env.MESOS_SUBSCRIPTION_BACKOFF_MAX, /^\d+(\.\d+)?(ms|secs)$/);
  assert.equal(env.MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, "1secs");
  assert.equal(env.TEST_MARK, "exec-1");
  const sub = JSON.parse(readFileSync(join(sandbox, "subscribed.json"), "utf8"));
  assert.equal(sub.framework_info.id.value, s.frameworkId);
  assert.equal(sub.agent_info.id.value, agentIds[0]);
  assert.equal(sub.executor_info.framework_id.value, s.frameworkId);
  // Defaults are written out as Mesos does.
  assert.equal(sub.executor_info.command.environment.variables[0].type, "VALUE");
  const launched = JSON.parse(readFileSync(join(sandbox, "task-e1-t1.json"), "utf8"));
  assert.deepEqual(launched.resources[0].allocation_info, { role: "storage" });
  assert.equal(launched.executor.executor_id.value, "exec-1");
  const pid = (await agentState(0)).frameworks[0].executors.find((e: Ev) => e.id === "exec-1").pid;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  assert.equal(pgrp, pid, "the executor leads its own process group");
});

test("MESSAGE both ways, KILL, a second task on the same executor, executor_ids in offers", async () => {
  const data = Buffer.from("ping ✓").toString("base64");
  const mark = s.stream.events.length;
  assert.equal(
    (
      await s.call("MESSAGE", {
        agent_id: { value: agentIds[0] },
        executor_id: { value: "exec-1" },
        data,
      })
    ).status,
    202,
  );
  const echo = await s.stream.next((e) => e.type === "MESSAGE", 10_000, mark);
  assert.deepEqual(echo.message, {
    agent_id: { value: agentIds[0] },
    executor_id: { value: "exec-1" },
    data,
  });
  // The agent's resources left over by the launch are offered again, naming the executor.
  const lastOffer = s.stream.events
    .filter((e) => e.type === "OFFERS")
    .flatMap((e) => e.offers.offers as Ev[])
    .filter((o) => o.agent_id.value === agentIds[0])
    .pop();
  assert.deepEqual(lastOffer?.executor_ids, [{ value: "exec-1" }]);
  await launch(0, [task("e1-t2", agentIds[0]!, executor("exec-1"), { finish_ms: 50 })]);
  await s.ack(
    await s.update((u) => u.task_id.value === "e1-t2" && u.state === "TASK_RUNNING", 10_000, mark),
  );
  await s.ack(
    await s.update((u) => u.task_id.value === "e1-t2" && u.state === "TASK_FINISHED", 10_000, mark),
  );
  // A different ExecutorInfo under the same id is refused.
  await launch(0, [task("e1-bad", agentIds[0]!, executor("exec-1", { name: "changed" }))]);
  const err = await s.update((u) => u.task_id.value === "e1-bad", 10_000, mark);
  assert.equal(err.state, "TASK_ERROR");
  assert.match(err.message, /not compatible/);
  assert.equal(
    (await s.call("KILL", { task_id: { value: "e1-t1" }, agent_id: { value: agentIds[0] } }))
      .status,
    202,
  );
  const killed = await s.update(
    (u) => u.task_id.value === "e1-t1" && u.state === "TASK_KILLED",
    10_000,
    mark,
  );
  await s.ack(killed);
});

test("SHUTDOWN: the executor gets SHUTDOWN and exits; FAILURE reports its status", async () => {
  const mark = s.stream.events.length;
  assert.equal(
    (
      await s.call("SHUTDOWN", {
        executor_id: { value: "exec-1" },
        agent_id: { value: agentIds[0] },
      })
    ).status,
    202,
  );
  const failure = await s.stream.next((e) => e.type === "FAILURE", 10_000, mark);
  assert.deepEqual(failure.failure, {
    agent_id: { value: agentIds[0] },
    executor_id: { value: "exec-1" },
    status: 0,
  });
});

test("fault injection over HTTP: killing an executor gives TASK_FAILED and FAILURE with SIGKILL", async () => {
  const mark = s.stream.events.length;
  await launch(1, [task("victim-t", agentIds[1]!, executor("exec-victim"))]);
  await s.ack(
    await s.update(
      (u) => u.task_id.value === "victim-t" && u.state === "TASK_RUNNING",
      10_000,
      mark,
    ),
  );
  const r = await http(`${c.masterUrl}/sim/agents/1/kill-executor`, {
    body: { framework_id: s.frameworkId, executor_id: "exec-victim" },
  });
  assert.equal(r.status, 200);
  const failed = await s.update(
    (u) => u.task_id.value === "victim-t" && u.state === "TASK_FAILED",
    10_000,
    mark,
  );
  await s.ack(failed);
  const failure = await s.stream.next(
    (e) => e.type === "FAILURE" && e.failure.executor_id?.value === "exec-victim",
    10_000,
    mark,
  );
  assert.equal(failure.failure.status & 0x7f, 9, "killed by SIGKILL");
});

test("executor exit: TASK_FAILED from the agent (reliable) and FAILURE with the wait status", async () => {
  const mark = s.stream.events.length;
  await launch(1, [task("crash-t", agentIds[1]!, executor("exec-crash"), { exit: 3 })]);
  await s.ack(
    await s.update(
      (u) => u.task_id.value === "crash-t" && u.state === "TASK_RUNNING",
      10_000,
      mark,
    ),
  );
  const failed = await s.update(
    (u) => u.task_id.value === "crash-t" && u.state === "TASK_FAILED",
    10_000,
    mark,
  );
  assert.equal(failed.source, "SOURCE_AGENT");
  assert.equal(failed.reason, "REASON_EXECUTOR_TERMINATED");
  assert.ok(failed.uuid, "agent-generated updates are reliable");
  await s.ack(failed);
  const failure = await s.stream.next(
    (e) => e.type === "FAILURE" && e.failure.executor_id?.value === "exec-crash",
    10_000,
    mark,
  );
  assert.equal(failure.failure.status, 3 << 8);
});

test("11.11: an update is re-sent with the same uuid until acknowledged, one at a time per task", async () => {
  const mark = s.stream.events.length;
  await launch(1, [task("retry-t", agentIds[1]!, executor("exec-retry"), { finish_ms: 10 })]);
  const first = await s.update((u) => u.task_id.value === "retry-t", 10_000, mark);
  assert.equal(first.state, "TASK_RUNNING");
  let count = 0;
  await until(
    () => {
      count = s.stream.events
        .slice(mark)
        .filter((e) => e.type === "UPDATE" && e.update.status.uuid === first.uuid).length;
      return count >= 2;
    },
    5000,
    "a retry",
  );
  assert.equal(
    s.stream.events
      .slice(mark)
      .some((e) => e.type === "UPDATE" && e.update.status.state === "TASK_FINISHED"),
    false,
    "TASK_FINISHED waits for the acknowledgement of TASK_RUNNING",
  );
  await s.ack(first);
  const finished = await s.update(
    (u) => u.task_id.value === "retry-t" && u.state === "TASK_FINISHED",
    10_000,
    mark,
  );
  await s.ack(finished);
  // Acknowledged terminal task: the agent forgets it, the master moves it to completed.
  await until(
    async () => {
      const st = JSON.parse((await http(`${c.masterUrl}/state`, { method: "GET" })).body);
      return st.frameworks[0].completed_tasks.some((t: Ev) => t.id === "retry-t");
    },
    5000,
    "the task to complete",
  );
});

test("executor API: status codes and validation of 6.2/6.4", async () => {
  const agent = c.agents[1]!;
  const url = `http://${agent.host}:${agent.port}/api/v1/executor`;
  const ids = { executor_id: { value: "exec-retry" }, framework_id: { value: s.frameworkId } };
  assert.equal((await http(url, { method: "GET" })).status, 405);
  assert.equal(
    (await http(url, { body: "{}", headers: { "Content-Type": "text/plain" } })).status,
    415,
  );
  const hb = await http(url, {
    body: { executor_id: { value: "?" }, framework_id: { value: "?" }, type: "HEARTBEAT" },
  });
  assert.equal(hb.status, 202);
  const missing = await http(url, { body: { type: "HEARTBEAT" } });
  assert.equal(missing.status, 400);
  assert.match(missing.body, /Missing required fields: executor_id, framework_id/);
  const unknownFw = await http(url, {
    body: {
      executor_id: { value: "e" },
      framework_id: { value: "nope" },
      type: "MESSAGE",
      message: { data: "" },
    },
  });
  assert.equal(unknownFw.status, 400);
  assert.equal(unknownFw.body, "Framework cannot be found");
  const status = (extra: object) => ({
    ...ids,
    type: "UPDATE",
    update: {
      status: {
        task_id: { value: "retry-t" },
        state: "TASK_RUNNING",
        source: "SOURCE_EXECUTOR",
        uuid: Buffer.alloc(16, 1).toString("base64"),
        ...extra,
      },
    },
  });
  const staging = await http(url, { body: status({ state: "TASK_STAGING" }) });
  assert.equal(staging.status, 400);
  assert.match(staging.body, /TASK_STAGING/);
  const source = await http(url, { body: status({ source: "SOURCE_MASTER" }) });
  assert.equal(source.status, 400);
  assert.match(source.body, /SOURCE_EXECUTOR/);
  const uuid = await http(url, { body: status({ uuid: Buffer.alloc(4).toString("base64") }) });
  assert.equal(uuid.status, 400);
  const otherExec = await http(url, { body: status({ executor_id: { value: "other" } }) });
  assert.equal(otherExec.status, 400);
  assert.match(otherExec.body, /does not match ExecutorID/);
  const noType = await http(url, { body: ids });
  assert.equal(noType.status, 400);
  assert.match(noType.body, /Expecting 'type' to be present/);
  const sub = await http(url, {
    body: { ...ids, type: "SUBSCRIBE", subscribe: {} },
    headers: { Accept: "text/html" },
  });
  assert.equal(sub.status, 406);
});

test("11.16: a restarted agent keeps its executors, lets them resubscribe and replays unacknowledged updates", async () => {
  const mark = s.stream.events.length;
  await launch(0, [task("keep-t", agentIds[0]!, executor("exec-keep"))]);
  const running = await s.update(
    (u) => u.task_id.value === "keep-t" && u.state === "TASK_RUNNING",
    10_000,
    mark,
  );
  // Do not acknowledge: the update must survive the agent restart.
  const pidBefore = (await agentState(0)).frameworks[0].executors.find(
    (e: Ev) => e.id === "exec-keep",
  ).pid;
  await c.agents[0]!.restart();
  const mark2 = s.stream.events.length;
  const replayed = await s.update((u) => u.uuid === running.uuid, 15_000, mark2);
  assert.equal(replayed.state, "TASK_RUNNING");
  await s.ack(replayed);
  let e: Ev | undefined;
  await until(
    async () => {
      e = (await agentState(0)).frameworks[0].executors.find((x: Ev) => x.id === "exec-keep");
      return e?.state === "running";
    },
    10_000,
    "the executor to resubscribe",
  );
  assert.equal(e!.pid, pidBefore, "the same executor process survived");
  assert.equal(await c.agents[0]!.id(), agentIds[0], "same agent id after a restart");
  // It still works: kill it through the restarted agent.
  await s.call("KILL", { task_id: { value: "keep-t" }, agent_id: { value: agentIds[0] } });
  await s.ack(
    await s.update((u) => u.task_id.value === "keep-t" && u.state === "TASK_KILLED", 10_000, mark2),
  );
});

test("11.16: an executor that does not resubscribe in time is killed and its task reported TASK_GONE", async () => {
  const mark = s.stream.events.length;
  await launch(0, [task("gone-t", agentIds[0]!, executor("exec-gone"))]);
  await s.ack(
    await s.update((u) => u.task_id.value === "gone-t" && u.state === "TASK_RUNNING", 10_000, mark),
  );
  const pid: number = (await agentState(0)).frameworks[0].executors.find(
    (e: Ev) => e.id === "exec-gone",
  ).pid;
  process.kill(pid, "SIGSTOP"); // alive but mute
  try {
    await c.agents[0]!.restart();
    const gone = await s.update(
      (u) => u.task_id.value === "gone-t" && u.state !== "TASK_RUNNING",
      15_000,
      mark,
    );
    assert.equal(gone.state, "TASK_GONE");
    assert.equal(gone.reason, "REASON_EXECUTOR_REREGISTRATION_TIMEOUT");
    assert.equal(gone.source, "SOURCE_AGENT");
    await s.ack(gone);
    await until(
      () =>
        !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"),
      5000,
      "the executor to be killed",
    );
  } finally {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

test("the fetcher: file and http URIs, executable, extract, and the per-host cache", async () => {
  const { createServer } = await import("node:http");
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "fetch-src-"));
  writeFileSync(join(dir, "hello.txt"), "hello");
  execFileSync("tar", ["-C", dir, "-czf", join(dir, "bundle.tar.gz"), "hello.txt"]);
  writeFileSync(join(dir, "tool.sh"), "#!/bin/sh\necho tool\n");
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.end(readFileSync(join(dir, "tool.sh")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const cmdTask = (id: string) => ({
      name: id,
      task_id: { value: id },
      agent_id: { value: agentIds[1] },
      resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
      command: {
        value:
          "test -f hello.txt && test -f bundle.tar.gz && test -x tool && ./tool | grep -q tool",
        uris: [
          { value: `file://${join(dir, "bundle.tar.gz")}` },
          {
            value: `http://127.0.0.1:${port}/tool.sh`,
            executable: true,
            cache: true,
            output_file: "tool",
          },
        ],
      },
    });
    const mark = s.stream.events.length;
    await launch(1, [cmdTask("fetch-1")]);
    const done1 = await s.terminal("fetch-1", 15_000, mark);
    assert.equal(done1.state, "TASK_FINISHED");
    await launch(1, [cmdTask("fetch-2")]);
    const done2 = await s.terminal("fetch-2", 15_000, mark);
    assert.equal(done2.state, "TASK_FINISHED");
    assert.equal(hits, 1, "the second fetch came from the cache");
    assert.ok(readdirSync(join(c.workDir, "fetch-cache", c.agents[1]!.host)).length >= 1);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
