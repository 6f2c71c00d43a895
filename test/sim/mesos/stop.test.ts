// Executors never outlive the development cluster: an agent host process that is signalled
// (as Ctrl-C or `timeout` signal the whole process group) stops its executors, and an
// executor whose agent is gone for longer than MESOS_RECOVERY_TIMEOUT exits by itself, as
// Mesos' executors do.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { encodeSpec } from "../../../src/framework/node-task/protocol.js";
import { FRAMEWORK, Scheduler, alive, descendants, until, type Ev } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/test-executor.mjs", import.meta.url));
const ENTRY = fileURLToPath(new URL("../../../src/executor/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const RECOVERY_MS = 2000;

let c: DevCluster;
let s: Scheduler;
let ids: string[];

before(async () => {
  c = await startDevCluster({
    agents: 2,
    master: { allocationIntervalMs: 100 },
    agent: { registrationBackoffMs: 100, recoveryTimeoutMs: RECOVERY_MS },
  });
  ids = await Promise.all(c.agents.map((a) => a.id()));
  s = await Scheduler.subscribe(c.masterUrl, FRAMEWORK);
});
after(async () => {
  s?.close();
  await c?.stop();
});

const cpus = (value: number) => ({ name: "cpus", type: "SCALAR", scalar: { value } });

async function launchOn(agent: number, taskId: string, executor: object, data: string) {
  let offer: Ev | undefined;
  await until(
    async () => {
      offer = (await s.offers(1, 5000)).find(
        (o) => o.agent_id.value === ids[agent] && !used.has(o.id.value),
      );
      return !!offer;
    },
    15_000,
    `an offer of agent ${agent}`,
  );
  used.add(offer!.id.value);
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
              resources: [cpus(0.01)],
              data,
              executor,
            },
          ],
        },
      },
    ],
    filters: { refuse_seconds: 0 },
  });
  assert.equal(r.status, 202, r.body);
}
const used = new Set<string>();

async function executorOf(
  agent: number,
  executorId: string,
): Promise<{ pid: number; dir: string }> {
  const st = (await c.agents[agent]!.state()) as Ev;
  for (const f of st.frameworks)
    for (const e of f.executors) if (e.id === executorId) return { pid: e.pid, dir: e.directory };
  throw new Error(`no executor ${executorId} on agent ${agent}`);
}

/** The agent host process of agent `i` (a child of this test process). */
function hostPid(i: number): number {
  const pid = descendants(process.pid).find((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      return /agent[/\\]main\.[jt]s/.test(cmd) && cmd.includes(`host-${i}.json`);
    } catch {
      return false;
    }
  });
  assert.ok(pid, `agent host ${i} found`);
  return pid;
}

test("an agent host stopped by SIGTERM stops its executors (no orphans in their own groups)", async () => {
  const executor = {
    type: "CUSTOM",
    executor_id: { value: "orphan-check" },
    command: { shell: false, value: process.execPath, arguments: ["node", FIXTURE] },
    resources: [cpus(0.01)],
  };
  await launchOn(0, "long-1", executor, Buffer.from("{}").toString("base64"));
  await s.ack(await s.update((u) => u.task_id.value === "long-1" && u.state === "TASK_RUNNING"));
  const { pid } = await executorOf(0, "orphan-check");
  assert.ok(alive(pid));
  const host = hostPid(0);
  process.kill(host, "SIGTERM");
  await until(() => !alive(host), 10_000, "the agent host to exit");
  await until(() => !alive(pid), 10_000, "the executor to be stopped with its agent host");
});

test("an executor whose agent stays away longer than MESOS_RECOVERY_TIMEOUT exits", async () => {
  const executor = {
    type: "CUSTOM",
    executor_id: { value: "scaleio-executor" },
    command: {
      shell: false,
      value: process.execPath,
      arguments: [process.execPath, "--import", TSX, ENTRY],
      environment: { variables: [{ name: "SCALEIO_FRAMEWORK_LOG_LEVEL", value: "info" }] },
    },
    resources: [cpus(0.05)],
  };
  const spec = { protocol: 1 as const, stepId: "facts/a1", attempt: 1, kind: "scaleio.host-facts" };
  await launchOn(1, "facts-1", executor, encodeSpec({ ...spec, params: {} }));
  const done = await s.terminal("facts-1", 60_000);
  assert.equal(done.state, "TASK_FINISHED", done.message);
  const { pid, dir } = await executorOf(1, "scaleio-executor");
  assert.ok(alive(pid), "the executor stays up between steps");
  const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  assert.ok(env.includes("MESOS_RECOVERY_TIMEOUT=2secs"), "the agent set the recovery timeout");
  await c.agents[1]!.kill(); // SIGKILL: the agent never comes back
  const lost = Date.now();
  await until(() => !alive(pid), RECOVERY_MS + 15_000, "the executor to give up on its agent");
  const waited = Date.now() - lost;
  assert.ok(waited >= RECOVERY_MS - 500, `waited the recovery timeout first (${waited} ms)`);
  const log = readFileSync(join(dir, "stderr"), "utf8");
  assert.match(log, /lost the agent for good/);
});
