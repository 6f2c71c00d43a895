// Capacity remediation end to end on the development cluster (three agents with two 100 GB
// devices each, the ScaleIO emulator, the scheduler observing every second, auto-grow on, a
// capacity hook and an alert webhook): a pool filled to 85 % is almost full; looking at the
// agents' devices again finds no unused one; the hook is called and attaches a file-backed
// device to each agent; those devices are found and join the pool; its capacity grows; the
// condition clears; every action is an event; the webhook got the alert firing, then resolved.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { OperatorEvent } from "../../src/framework/events.js";
import type { ConditionChange } from "../../src/framework/health/types.js";
import type { WebhookPayload } from "../../src/framework/health/alert-webhook.js";
import type { CapacityRequest } from "../../src/platforms/scaleio/remediate/capacity-hook.js";
import { startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { until, waitForEvent, waitUntil } from "../support/wait.js";

const POOL = "pool/default/default";

let env: DeployEnv;
let h: SchedulerHandle;
let receiver: Server;
const posts: WebhookPayload[] = [];
const received = new EventEmitter();
const events: OperatorEvent[] = [];
let hookRequests: string;

interface Remediation {
  action: string;
  pool: string;
  hook?: { request: CapacityRequest; ok: boolean; answer: string };
}
const remediations = (): Remediation[] =>
  events.flatMap((e) => {
    const r = (e.data as { remediation?: Remediation } | null)?.remediation;
    return e.type === "log" && r ? [r] : [];
  });

/**
 * The operator's hook, as a file: it keeps the request, then "attaches" a sparse file-backed
 * device of an even share of the suggested growth to every candidate agent (an even share
 * keeps the fault units equal, so the spare the pool needs does not grow) and tells the
 * emulator its size, as plugging a disk into the machine would.
 */
function writeHook(dir: string, nodesDir: string, controlUrl: string): string {
  const path = join(dir, "grow-pool");
  hookRequests = join(dir, "hook-requests.jsonl");
  writeFileSync(
    path,
    `#!${process.execPath}
const fs = require("node:fs");
const path = require("node:path");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", async () => {
  fs.appendFileSync(${JSON.stringify(hookRequests)}, input + "\\n");
  const req = JSON.parse(input);
  const gb = Math.ceil(req.suggestedGrowthGb / req.candidateAgents.length);
  for (const a of req.candidateAgents) {
    const file = path.join(${JSON.stringify(nodesDir)}, a.ip, "dev", "sdd");
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, gb * 2 ** 30);
    fs.closeSync(fd);
    const r = await fetch(${JSON.stringify(controlUrl)} + "/admin/nodes/" + a.ip + "/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "/dev/sdd", sizeGb: gb }),
    });
    if (!r.ok) {
      console.error("attaching to " + a.hostname + " failed: HTTP " + r.status);
      process.exit(1);
    }
  }
  console.log("attached /dev/sdd (" + gb + " GiB) to " + req.candidateAgents.map((a) => a.hostname).join(", "));
});
`,
  );
  chmodSync(path, 0o755);
  return path;
}

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${h.apiUrl}${path}`);
  assert.equal(r.status, 200, path);
  return (await r.json()) as T;
}

async function control(path: string, body: unknown): Promise<unknown> {
  const r = await fetch(`${env.emulator.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text) as unknown;
}

before(async () => {
  receiver = createServer((req, res) => {
    let b = "";
    req.on("data", (d: Buffer) => (b += d.toString()));
    req.on("end", () => {
      posts.push(JSON.parse(b) as WebhookPayload);
      res.writeHead(200).end();
      received.emit("post");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const { port } = receiver.address() as { port: number };
  env = await startDeployEnv({ agents: 3 });
  const hook = writeHook(env.dir, join(env.dir, "nodes"), env.emulator.controlUrl);
  h = await env.startInProcess([
    "--observe-interval",
    "1",
    "--auto-grow",
    "devices",
    "--capacity-hook",
    hook,
    "--alert-webhook",
    `http://127.0.0.1:${port}/alerts`,
    // Only a rescan the remediation asks for finds the hook's devices.
    "--device-scan-interval",
    "0",
  ]);
  h.view.events.on("event", (e) => events.push(e));
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 3,
    150_000,
  );
});

after(async () => {
  await env?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

test(
  "(d) a pool almost full: no unused device, the hook attaches some, the pool grows, the condition clears",
  { timeout: 240_000 },
  async () => {
    const pools = await api<{
      pools: { object: string; id: string; capacity: { totalBytes: number } }[];
    }>("/v1/pools");
    const before = pools.pools.find((p) => p.object === POOL)!;
    assert.ok(before, JSON.stringify(pools));
    // The MDM's thresholds are ours (80 / 90), set when the domains were prepared.
    const emuPool = env.emulator.sys.pools.get(before.id)!;
    assert.deepEqual(
      [emuPool.capacityAlertHighThreshold, emuPool.capacityAlertCriticalThreshold],
      [80, 90],
    );

    const raised = waitForEvent<[ConditionChange[]]>(h.view.health, "change", {
      timeoutMs: 30_000,
      filter: (cs) =>
        cs.some(
          (c) =>
            c.kind === "raised" &&
            c.condition.type === "CapacityAlmostFull" &&
            c.condition.object === POOL,
        ),
    });
    const cleared = waitForEvent<[ConditionChange[]]>(h.view.health, "change", {
      timeoutMs: 180_000,
      filter: (cs) =>
        cs.some(
          (c) =>
            c.kind === "cleared" &&
            c.condition.type === "CapacityAlmostFull" &&
            c.condition.object === POOL,
        ),
    });
    await control(`/admin/pools/${before.id}/fill`, { percent: 85 });
    await raised;
    await cleared;

    // Capacity grew, and the condition is gone from the operators' view.
    const afterPools = await api<{ pools: { object: string; capacity: { totalBytes: number } }[] }>(
      "/v1/pools",
    );
    const grown = afterPools.pools.find((p) => p.object === POOL)!;
    assert.ok(
      grown.capacity.totalBytes > before.capacity.totalBytes,
      `${grown.capacity.totalBytes} > ${before.capacity.totalBytes}`,
    );
    const health = await api<{ conditions: { type: string }[] }>("/v1/health");
    assert.ok(!health.conditions.some((c) => c.type === "CapacityAlmostFull"));

    // The hook got the request as documented, once.
    const requests = readFileSync(hookRequests, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CapacityRequest);
    assert.equal(requests.length, 1);
    const [req] = requests;
    assert.equal(req!.pool, "default");
    assert.equal(req!.protectionDomain, "default");
    assert.ok(req!.usedPercent >= 85 && req!.usedPercent < 86, String(req!.usedPercent));
    assert.ok(req!.suggestedGrowthGb > 0);
    assert.deepEqual(
      req!.candidateAgents.map((a) => a.ip).sort(),
      env.cluster.agents.map((a) => a.host).sort(),
    );
    // The pool is out of trouble before the last of them joins: every one joins all the same.
    const hookDevices = () =>
      [...env.emulator.sys.devices.values()].filter((d) => d.path === "/dev/sdd").length;
    await waitUntil(() => hookDevices() === 3, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: "the hook's three devices in the pool",
    });

    // Every action is an event, in order; the hook's answer with it.
    await until(h.view.events, ["event"], () => remediations().some((r) => r.action === "settled"));
    const actions = remediations().map((r) => r.action);
    assert.deepEqual(actions, ["rescan", "no-growth", "hook", "rescan", "grew", "settled"]);
    const hookEvent = remediations().find((r) => r.action === "hook")!;
    assert.equal(hookEvent.hook?.ok, true);
    assert.match(hookEvent.hook!.answer, /^exit 0: attached \/dev\/sdd \(\d+ GiB\) to /);
    const recent = await api<{ events: OperatorEvent[] }>("/v1/events/recent");
    assert.ok(
      recent.events.some(
        (e) =>
          e.type === "log" &&
          /capacity hook answered for pool default\/default/.test((e.data as { msg: string }).msg),
      ),
      "the hook's call is on the event stream",
    );

    // The webhook got the alert firing, then resolved. (While the devices join one agent at a
    // time the spare the pool needs may rise for a moment: then the warning alert is resolved
    // and a critical one fires, and is resolved in its turn.)
    const capacityAlerts = () =>
      posts
        .flatMap((p) => p.alerts)
        .filter((a) => a.labels.alertname === "CapacityAlmostFull" && a.labels.object === POOL);
    const open = () => {
      const last = new Map(capacityAlerts().map((a) => [a.fingerprint, a.status] as const));
      return [...last.values()].filter((st) => st === "firing").length;
    };
    await until(received, ["post"], () => capacityAlerts().length >= 2 && open() === 0, 10_000);
    const story = capacityAlerts().map((a) => `${a.status} ${a.labels.severity}`);
    assert.equal(story[0], "firing warning", story.join(", "));
    assert.equal(story.at(-1)!.split(" ")[0], "resolved", story.join(", "));
    assert.equal(posts[0]!.version, "4");
  },
);
