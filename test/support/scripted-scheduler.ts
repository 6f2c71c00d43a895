// The platform-neutral FrameworkScheduler subscribed to a scripted master (no Mesos, no
// executors): tests send it exactly the events they want and watch its store writes, its
// calls to the master and its log lines.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../src/store/file-store.js";
import {
  FrameworkScheduler,
  type Platform,
  type PlatformContext,
} from "../../src/framework/scheduler.js";
import type { MesosLogger } from "../../src/mesos/logger.js";
import {
  ScriptedMaster,
  subscribedEvent,
  type Pending,
  type StreamWriter,
} from "./scripted-master.js";
import { waitForEvent } from "./wait.js";

export const FID = "3f1c9a52-7d0e-4b1a-9c8e-5e6f7a8b9c0d-0001";

/** One node step per active agent (when asked to), and every executor message recorded. */
export class StepPerAgent implements Platform {
  readonly name = "test";
  ctx!: PlatformContext;
  runSteps = false;
  results = new Map<string, unknown>();
  messages: string[] = [];
  onMessage: (() => void) | undefined;
  async start(ctx: PlatformContext) {
    this.ctx = ctx;
  }
  async recompute() {
    if (!this.runSteps) return;
    const agents = this.ctx.agents.active();
    await this.ctx.engine.setPlan({
      id: "deploy",
      name: "deploy",
      strategy: "serial",
      phases: [
        {
          id: "echo",
          name: "echo",
          strategy: "parallel",
          steps: agents.map((a) => ({
            id: `echo/${a.agentId}`,
            name: `echo ${a.agentId}`,
            asset: a.agentId,
            run: async (ctx) => {
              this.results.set(a.agentId, await this.ctx.runNode(a.agentId, "test.echo", {}, ctx));
            },
          })),
        },
      ],
    });
  }
  async stop() {}
  onExecutorMessage(agentId: string, data: Buffer) {
    this.messages.push(`${agentId}: ${data.toString("utf8")}`);
    this.onMessage?.();
  }
}

/** An offer of a whole small agent, unreserved. */
export const offer = (id: string, agent: string, extra: Record<string, unknown> = {}) => ({
  id: { value: id },
  framework_id: { value: FID },
  agent_id: { value: agent },
  hostname: `${agent}.example.net`,
  url: {
    scheme: "http",
    address: { hostname: `${agent}.example.net`, ip: "127.0.0.9", port: 5051 },
  },
  resources: [
    { name: "cpus", type: "SCALAR", scalar: { value: 2 }, allocation_info: { role: "scaleio" } },
    { name: "mem", type: "SCALAR", scalar: { value: 2048 }, allocation_info: { role: "scaleio" } },
  ],
  ...extra,
});

export interface ScriptedScheduler {
  master: ScriptedMaster;
  stream: StreamWriter;
  sched: FrameworkScheduler;
  store: FileStateStore;
  platform: StepPerAgent;
  /** Store writes (`key`) and deletions (`delete key`), in order. */
  writes: string[];
  /** Runs before each store write; may hold it (await) or fail it (throw). */
  beforeWrite: ((key: string, value: unknown) => Promise<void>) | undefined;
  logs: { level: string; msg: string | undefined; obj: Record<string, unknown> }[];
  callsOf(type: string): Pending[];
  /** Sends events, then a HEARTBEAT, and resolves once all of them have been handled. */
  sendAll(events: unknown[], cuts?: number[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts a FrameworkScheduler and subscribes it (framework id FID). */
export async function startScriptedScheduler(
  opts: { runSteps?: boolean } = {},
): Promise<ScriptedScheduler> {
  const master = await ScriptedMaster.start();
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "scripted-sched-")));
  const platform = new StepPerAgent();
  platform.runSteps = opts.runSteps ?? false;
  const logs: ScriptedScheduler["logs"] = [];
  const writes: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    logs.push({ level, msg, obj: obj as Record<string, unknown> });
  const logger: MesosLogger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  const sched = await FrameworkScheduler.create({
    master: master.url,
    frameworkInfo: {
      user: "root",
      name: "scripted-test",
      roles: ["scaleio"],
      principal: "scaleio-fw",
      checkpoint: true,
      failover_timeout: 600,
      capabilities: [{ type: "MULTI_ROLE" }, { type: "RESERVATION_REFINEMENT" }],
    },
    role: "scaleio",
    store,
    platform,
    secrets: {},
    executorFor: (agentId) => ({
      info: {
        executor_id: { value: `scaleio-${agentId}` },
        name: "executor",
        command: { shell: false, value: "/bin/true" },
      },
      resources: { cpus: 0.1, memMb: 32 },
    }),
    logger,
    retry: { initialMs: 60_000, maxMs: 60_000 },
    mesosBackoff: { initialMs: 20, maxMs: 100 },
    discoverAgentsEveryMs: 0,
  });
  const world: ScriptedScheduler = {
    master,
    stream: undefined as unknown as StreamWriter,
    sched,
    store,
    platform,
    writes,
    beforeWrite: undefined,
    logs,
    callsOf: (type) => master.calls.filter((c) => c.json.type === type),
    async sendAll(events, cuts = []) {
      const beat = waitForEvent(sched.client, "heartbeat", { timeoutMs: 10_000 });
      world.stream.send([...events, { type: "HEARTBEAT" }], cuts);
      await beat;
      await sched.pipeline.settled();
    },
    async close() {
      await sched.stop().catch(() => undefined);
      await master.close();
      await store.close();
    },
  };
  const set = store.set.bind(store);
  store.set = async (key, value) => {
    await world.beforeWrite?.(key, value);
    writes.push(key);
    await set(key, value);
  };
  const del = store.delete.bind(store);
  store.delete = async (key) => {
    writes.push(`delete ${key}`);
    await del(key);
  };
  const subscribed = waitForEvent(sched.client, "subscribed");
  await sched.start();
  world.stream = master.openStream(await master.next());
  world.stream.send([subscribedEvent(FID, 15), { type: "HEARTBEAT" }]);
  await subscribed;
  await sched.pipeline.settled();
  return world;
}
