// The platform-neutral scheduler on the development cluster: it subscribes with a persisted
// framework id, learns agents from offers, lets a platform compute a plan whose node steps
// run on executors (one of them trading a single-use token for a secret), and after a
// restart resubscribes with the same id without redoing finished work.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import {
  FrameworkScheduler,
  type Platform,
  type PlatformContext,
} from "../../../src/framework/scheduler.js";
import { buildApiServer } from "../../../src/api/server.js";
import { Secret } from "../../../src/common/secret.js";
import { silentLogger } from "../../../src/mesos/logger.js";
import { waitForEvent } from "../../support/wait.js";

const script = fileURLToPath(new URL("./fixtures/protocol-executor.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
const PASSWORD = "Sc4leIO-admin!";
let cluster: DevCluster | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
  await cluster?.stop();
});

class HelloPlatform implements Platform {
  readonly name = "hello";
  ctx!: PlatformContext;
  runs: string[] = [];
  results = new Map<string, unknown>();
  async start(ctx: PlatformContext) {
    this.ctx = ctx;
    await this.recompute();
  }
  async recompute() {
    const agents = this.ctx.agents.active();
    await this.ctx.engine.setPlan({
      id: "deploy",
      name: "Hello",
      strategy: "serial",
      phases: [
        {
          id: "hello",
          name: "say hello",
          strategy: "parallel",
          steps: agents.map((a) => ({
            id: `hello/${a.agentId}`,
            name: `hello ${a.hostname}`,
            asset: a.agentId,
            run: async (ctx) => {
              this.runs.push(ctx.stepId);
              this.results.set(
                ctx.stepId,
                await this.ctx.runNode(a.agentId, "test.echo", { host: a.hostname }, ctx),
              );
            },
          })),
        },
        {
          id: "secret",
          name: "use a secret",
          strategy: "serial",
          steps: agents.slice(0, 1).map((a) => ({
            id: `secret/${a.agentId}`,
            name: "secret",
            run: async (ctx) => {
              this.runs.push(ctx.stepId);
              this.results.set(
                ctx.stepId,
                await this.ctx.runNode(a.agentId, "test.secret", {}, ctx, {
                  secrets: ["adminPassword"],
                }),
              );
            },
          })),
        },
      ],
    });
  }
  async stop() {}
}

async function startScheduler(dir: string, platform: HelloPlatform) {
  const store = await FileStateStore.open(dir);
  const ref: { sched?: FrameworkScheduler } = {};
  const app = buildApiServer({
    version: "0.1.0",
    vault: { redeem: (t, presented) => ref.sched!.vault.redeem(t, presented) },
    health: {
      subscribed: () => ref.sched?.subscribed ?? false,
      checkStore: () => store.checkWritable(),
    },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const sched = await FrameworkScheduler.create({
    master: cluster!.masterUrl,
    frameworkInfo: {
      user: "root",
      name: "scaleio-test",
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
    role: "scaleio",
    store,
    platform,
    secrets: { adminPassword: new Secret(PASSWORD, "test") },
    executorFor: (agentId) => ({
      info: {
        executor_id: { value: `scaleio-${agentId}` },
        name: "scaleio executor",
        command: {
          shell: false,
          value: process.execPath,
          arguments: [process.execPath, "--import", tsx, script],
          environment: { variables: [{ name: "SCALEIO_FRAMEWORK_URL", value: url }] },
        },
      },
      resources: { cpus: 0.5, memMb: 128 },
    }),
    logger: silentLogger,
    retry: { initialMs: 100, maxMs: 1000 },
    mesosBackoff: { initialMs: 50, maxMs: 500 },
  });
  ref.sched = sched;
  return { sched, store, app, url };
}

test(
  "plans run on executors through the scheduler, secrets travel by token, and a restart keeps the framework id",
  { timeout: 120_000 },
  async () => {
    cluster = await startDevCluster({
      agents: 2,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 50 },
      agent: { statusUpdateRetryMs: 300 },
    });
    const dir = mkdtempSync(join(tmpdir(), "sched-"));
    const platform = new HelloPlatform();
    const first = await startScheduler(dir, platform);
    cleanups.push(
      () => first.app.close(),
      () => first.sched.stop(),
      () => first.store.close(),
    );
    const subscribed = waitForEvent<[{ frameworkId: string }]>(first.sched.client, "subscribed", {
      timeoutMs: 20_000,
    });
    await first.sched.start();
    const [{ frameworkId }] = await subscribed;
    assert.deepEqual(await first.store.get("framework/id"), { value: frameworkId });
    const health = await fetch(`${first.url}/health`);
    assert.equal(health.status, 200);
    // Both agents appear through offers; the plan grows to cover them and completes.
    const done = await first.sched.engine
      .waitFor("deploy", (v) => v.status === "COMPLETE" && v.progress.total === 3, 20_000)
      .catch((e: Error) => {
        throw new Error(
          `${e.message}: ${JSON.stringify(first.sched.engine.view("deploy").phases.map((p) => p.steps.map((st) => [st.id, st.status, st.attempts, st.lastError])))} agents=${JSON.stringify(first.sched.agents.all().map((a) => a.agentId))}`,
        );
      });
    assert.equal(done.progress.complete, 3);
    const secretResult = [...platform.results.entries()].find(([k]) =>
      k.startsWith("secret/"),
    )![1] as { status: number; digest: string };
    assert.equal(secretResult.status, 200);
    assert.equal(secretResult.digest, createHash("sha256").update(PASSWORD).digest("hex"));
    assert.equal(first.sched.vault.outstanding, 0, "the token was used up");
    const runsBefore = platform.runs.length;

    // Restart: same store, same framework id, nothing redone.
    await first.sched.stop();
    await first.app.close();
    await first.store.close();
    cleanups.length = 0;
    const second = await startScheduler(dir, platform);
    cleanups.push(
      () => second.app.close(),
      () => second.sched.stop(),
      () => second.store.close(),
    );
    const again = waitForEvent<[{ frameworkId: string; resubscribed: boolean }]>(
      second.sched.client,
      "subscribed",
      { timeoutMs: 20_000 },
    );
    await second.sched.start();
    const [info] = await again;
    assert.equal(info.frameworkId, frameworkId);
    assert.equal(info.resubscribed, true);
    assert.equal(second.sched.engine.view("deploy").status, "COMPLETE");
    assert.equal(platform.runs.length, runsBefore, "finished steps are not run again");
    assert.equal(second.sched.agents.all().length, 2, "agents remembered");
  },
);
