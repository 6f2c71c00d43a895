// The executor process end to end on the Mesos development cluster: a tiny scheduler on the
// project's SchedulerClient launches node-step tasks on the real executor (TypeScript source
// through the tsx loader) whose host layer drives the ScaleIO emulator's node side.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { SchedulerClient, type Offer, type TaskStatus } from "../../../src/mesos/index.js";
import {
  decodeResult,
  encodeSpec,
  type NodeTaskSpec,
} from "../../../src/framework/node-task/protocol.js";
import { startEmuNodes, type EmuNodes } from "../../support/scaleio-node.js";
import { until } from "../../support/wait.js";

const entry = fileURLToPath(new URL("../../../src/executor/entry.ts", import.meta.url));
const tsxLoader = import.meta.resolve("tsx");
const NODE_IP = "10.60.0.1";
const PASSWORD = "S3cret-$(id)";

let nodes: EmuNodes | undefined;
let cluster: DevCluster | undefined;
let client: SchedulerClient | undefined;
const servers: Server[] = [];
after(async () => {
  await client?.stop().catch(() => {});
  await cluster?.stop();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await nodes?.close();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test(
  "node steps on the executor: results, bad params, kill, and a re-run after the executor died",
  { timeout: 180_000 },
  async () => {
    nodes = await startEmuNodes();
    const root = nodes.rootOf(NODE_IP);
    mkdirSync(join(root, "dev"), { recursive: true });
    writeFileSync(join(root, "dev/sdb"), Buffer.alloc(1024 * 1024));

    // The scheduler's secrets endpoint: single-use tokens.
    const tokens = new Set<string>();
    const secretFetches: string[] = [];
    const schedulerUrl = await listen(
      createServer((req, res) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (req.url !== "/v1/executor/secrets" || !token || !tokens.delete(token)) {
          res.writeHead(401).end();
          return;
        }
        secretFetches.push(token);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ adminPassword: PASSWORD }));
      }),
    );
    // A package server whose first LIA download hangs until released.
    const held: ServerResponse[] = [];
    let hold = true;
    const repoUrl = await listen(
      createServer((req, res) => {
        if (hold && req.url?.includes("lia")) {
          held.push(res);
          res.write("partial");
          return;
        }
        fetch(`${nodes!.emu.controlUrl}/repo${req.url}`)
          .then(async (r) => res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer())))
          .catch(() => res.writeHead(502).end());
      }),
    );

    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
      agent: { statusUpdateRetryMs: 300, executorShutdownGracePeriodMs: 2000 },
    });
    const statuses = new Map<string, TaskStatus[]>();
    const pending: { taskId: string; spec: NodeTaskSpec | string }[] = [];
    let executorGen = 0;
    client = new SchedulerClient({
      master: cluster.masterUrl,
      frameworkInfo: {
        user: "root",
        name: "executor-it",
        roles: ["*"],
        checkpoint: true,
        failover_timeout: 600,
        capabilities: [{ type: "MULTI_ROLE" }],
      },
      persistFrameworkId: () => {},
      callTimeoutMs: 5000,
    });
    let frameworkId = "";
    client.on("subscribed", (s: { frameworkId: string }) => (frameworkId = s.frameworkId));
    const executorId = () => `scaleio-executor-${executorGen}`;
    const launch = (offer: Offer) => {
      const batch = pending.splice(0);
      const res = (name: string, value: number) => ({
        name,
        type: "SCALAR" as const,
        scalar: { value },
        allocation_info: offer.allocation_info!,
      });
      const vars = {
        ...nodes!.envOf(NODE_IP),
        SCALEIO_FRAMEWORK_URL: schedulerUrl,
        SCALEIO_FRAMEWORK_LOG_LEVEL: "warn",
      };
      return client!.accept(
        [offer.id],
        [
          {
            type: "LAUNCH",
            launch: {
              task_infos: batch.map((t) => ({
                name: t.taskId,
                task_id: { value: t.taskId },
                agent_id: offer.agent_id,
                resources: [res("cpus", 0.01), res("mem", 8)],
                data:
                  typeof t.spec === "string"
                    ? Buffer.from(t.spec).toString("base64")
                    : encodeSpec(t.spec),
                executor: {
                  type: "CUSTOM",
                  executor_id: { value: executorId() },
                  name: "scaleio executor",
                  command: {
                    shell: false,
                    value: process.execPath,
                    arguments: [process.execPath, "--import", tsxLoader, entry],
                    environment: {
                      variables: Object.entries(vars).map(([name, value]) => ({ name, value })),
                    },
                  },
                  resources: [res("cpus", 0.05), res("mem", 64)],
                },
              })),
            },
          },
        ],
        { refuse_seconds: 0.05 },
      );
    };
    // Room for a new executor and a batch of tasks. An offer can be smaller: when a task
    // ends, its own resources come back in an offer of their own before the executor's do.
    const fits = (offer: Offer) => {
      const has = (name: string, need: number) =>
        (offer.resources ?? [])
          .filter((r) => r.name === name)
          .reduce((sum, r) => sum + (r.scalar?.value ?? 0), 0) >= need;
      return has("cpus", 0.05 + 0.01 * pending.length) && has("mem", 64 + 8 * pending.length);
    };
    let launching: Promise<unknown> = Promise.resolve();
    client.on("offers", (offers: Offer[]) => {
      for (const offer of offers) {
        // One ACCEPT at a time: two in flight could each count a new executor's resources.
        if (pending.length > 0)
          launching = launching
            .then(() =>
              pending.length > 0 && fits(offer)
                ? launch(offer)
                : client!.decline([offer.id], { refuse_seconds: 0.05 }),
            )
            .catch(() => {});
        else void client!.decline([offer.id], { refuse_seconds: 0.05 }).catch(() => {});
      }
    });
    client.on("update", (s: TaskStatus) => {
      const list = statuses.get(s.task_id.value) ?? [];
      list.push(s);
      statuses.set(s.task_id.value, list);
      void client!.acknowledgeIfNeeded(s).catch(() => {});
    });
    const TERMINAL = ["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR"];
    const last = (id: string) => statuses.get(id)?.at(-1);
    const terminal = async (id: string, timeoutMs = 60_000) => {
      await until(
        client!,
        ["update"],
        () => TERMINAL.includes(last(id)?.state ?? ""),
        timeoutMs,
      ).catch(() => {
        throw new Error(`${id}: no terminal state; saw ${JSON.stringify(statuses.get(id))}`);
      });
      return last(id)!;
    };
    let n = 0;
    const spec = (kind: string, params: unknown, token?: string): NodeTaskSpec => ({
      protocol: 1,
      stepId: `it-${kind}`,
      attempt: 1,
      kind,
      params,
      ...(token ? { secretToken: token } : {}),
    });
    const submit = (s: NodeTaskSpec | string) => {
      const taskId = `step-${++n}`;
      pending.push({ taskId, spec: s });
      return taskId;
    };
    client.start();

    // 1. host facts: TASK_FINISHED with the decoded result (TASK_RUNNING before it only if
    //    the step took longer than 250 ms)
    const facts = submit(spec("scaleio.host-facts", {}));
    const done = await terminal(facts);
    assert.equal(done.state, "TASK_FINISHED", done.message);
    const result = decodeResult(done.data);
    assert.equal(result?.ok, true);
    const d = (result as { data: { packageFormat: string; devices: { path: string }[] } }).data;
    assert.equal(d.packageFormat, "rpm");
    assert.deepEqual(
      d.devices.map((x) => x.path),
      ["/dev/sdb"],
    );
    const states = statuses.get(facts)!.map((s) => s.state);
    assert.equal(states.at(-1), "TASK_FINISHED");
    assert.ok(
      states.slice(0, -1).every((s) => s === "TASK_RUNNING"),
      states.join(", "),
    );

    // 2. bad params and a task that is not a node step: TASK_FAILED, permanent, clear message
    const bad = submit(spec("scaleio.install-package", { component: "nope", url: "x" }));
    const junk = submit("not a node step");
    const badDone = await terminal(bad);
    assert.equal(badDone.state, "TASK_FAILED");
    assert.match(badDone.message ?? "", /bad params: component/);
    assert.equal((decodeResult(badDone.data) as { permanent?: boolean }).permanent, true);
    const junkDone = await terminal(junk);
    assert.equal(junkDone.state, "TASK_FAILED");
    assert.match(junkDone.message ?? "", /not JSON|not a node step/);

    // 3. KILL while a download hangs: TASK_KILLED
    const liaUrl = `${repoUrl}/EMC-ScaleIO-lia-2.0-6035.0.el7.x86_64.rpm`;
    const t1 = "token-one-0123456789";
    tokens.add(t1);
    const killed = submit(spec("scaleio.install-package", { component: "lia", url: liaUrl }, t1));
    await until(
      client,
      ["update"],
      () => (statuses.get(killed) ?? []).some((s) => /downloading/.test(s.message ?? "")),
      30_000,
    );
    await client.kill(killed);
    assert.equal((await terminal(killed)).state, "TASK_KILLED");

    // 4. the executor dies mid-step; the step runs again (new task, new token) and succeeds
    const t2 = "token-two-0123456789";
    tokens.add(t2);
    const first = submit(spec("scaleio.install-package", { component: "lia", url: liaUrl }, t2));
    await until(
      client,
      ["update"],
      () => (statuses.get(first) ?? []).some((s) => /downloading/.test(s.message ?? "")),
      30_000,
    );
    const agent = cluster.agents[0]!;
    assert.equal(await agent.killExecutor(frameworkId, executorId()), true);
    const lost = await terminal(first);
    assert.notEqual(lost.state, "TASK_FINISHED");
    hold = false;
    for (const r of held) r.destroy();
    executorGen += 1;
    const t3 = "token-three-0123456789";
    tokens.add(t3);
    const retry = submit(spec("scaleio.install-package", { component: "lia", url: liaUrl }, t3));
    const ok = await terminal(retry);
    assert.equal(ok.state, "TASK_FINISHED", ok.message);
    assert.equal(
      (decodeResult(ok.data) as { data: { version: string } }).data.version,
      "2.0-6035.0",
    );
    assert.equal(nodes.emu.sys.nodes.get(NODE_IP)?.packages.get("lia")?.version, "2.0-6035.0");
    assert.deepEqual(secretFetches, [t1, t2, t3], "each attempt exchanged its own token once");

    // 5. SHUTDOWN of the executor while a step runs: TASK_KILLED, and the process exits
    hold = true;
    const t4 = "token-four-0123456789";
    tokens.add(t4);
    const gw = `${repoUrl}/EMC-ScaleIO-lia-2.0-13000.211.el7.x86_64.rpm`;
    const doomed = submit(spec("scaleio.install-package", { component: "lia", url: gw }, t4));
    await until(
      client,
      ["update"],
      () => (statuses.get(doomed) ?? []).some((s) => /downloading/.test(s.message ?? "")),
      30_000,
    );
    const agentId = last(doomed)!.agent_id!;
    await client.shutdown(executorId(), agentId);
    const down = await terminal(doomed);
    assert.equal(down.state, "TASK_KILLED", down.message);
    assert.match(down.message ?? "", /executor shutdown/);
    hold = false;
    for (const r of held) r.destroy();

    for (const list of statuses.values())
      for (const s of list) assert.ok(!(s.message ?? "").includes(PASSWORD));
  },
);
