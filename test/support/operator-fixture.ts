// An operator API over a real FrameworkScheduler (real plan engine, agent registry and file
// store) that is not subscribed to Mesos: agents are fed as offers, and a small platform
// installs a plan whose steps finish when the test releases them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApiServer, type ApiServerOptions } from "../../src/api/server.js";
import { Metrics } from "../../src/api/metrics.js";
import { Secret } from "../../src/common/secret.js";
import { OperatorView } from "../../src/framework/operator-view.js";
import {
  FrameworkScheduler,
  type ClusterView,
  type Platform,
  type PlatformContext,
  type PlatformNodeInfo,
} from "../../src/framework/scheduler.js";
import { silentLogger } from "../../src/mesos/logger.js";
import { FileStateStore } from "../../src/store/file-store.js";
import type { Offer } from "../../src/mesos/types/common.js";

export const TOKEN = "test-api-token-0123456789";
export const PASSWORD = "Adm1n-Secret-pw";

/** A platform with one per-agent phase whose steps wait for `release(agentId)`. */
export class GatedPlatform implements Platform {
  readonly name = "gated";
  ctx!: PlatformContext;
  private readonly gates = new Map<string, () => void>();
  private readonly waiters = new Map<string, Promise<void>>();
  rescans: string[] = [];
  rescan?: (agentId: string) => Promise<void>;

  constructor(withRescan = false) {
    if (withRescan)
      this.rescan = async (id) => {
        this.rescans.push(id);
      };
  }

  async start(ctx: PlatformContext) {
    this.ctx = ctx;
    await this.recompute();
  }

  release(agentId: string): void {
    this.gate(agentId);
    this.gates.get(agentId)!();
  }

  private gate(agentId: string): Promise<void> {
    let p = this.waiters.get(agentId);
    if (!p) {
      p = new Promise<void>((r) => this.gates.set(agentId, r));
      this.waiters.set(agentId, p);
    }
    return p;
  }

  async recompute() {
    const agents = this.ctx.agents.active();
    await this.ctx.engine.setPlan({
      id: "deploy",
      name: "Deploy",
      strategy: "serial",
      phases: [
        {
          id: "install",
          name: "install",
          strategy: "parallel",
          steps: agents.map((a) => ({
            id: `install/${a.agentId}`,
            name: `install on ${a.hostname}`,
            asset: a.agentId,
            run: async (ctx) => {
              ctx.progress("waiting for the test");
              await new Promise<void>((resolve, reject) => {
                void this.gate(a.agentId).then(resolve);
                ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error));
              });
            },
          })),
        },
        {
          id: "verify",
          name: "verify",
          strategy: "serial",
          steps: [{ id: "verify/all", name: "verify", run: async () => {} }],
        },
      ],
    });
  }

  async stop() {}

  async summary(): Promise<ClusterView> {
    return {
      systemId: "0123456789abcdef",
      systemName: "gated",
      state: "Normal",
      components: [
        { kind: "server", total: 2, ready: 2 },
        { kind: "client", total: 2, ready: 2 },
      ],
      details: { layout: "3 managers" },
      capacity: { rawBytes: 2 ** 40, usableBytes: 2 ** 39, freeBytes: 2 ** 38 },
      alerts: [],
      observedAt: Date.now(),
    };
  }

  nodeInfo(agentId: string): PlatformNodeInfo {
    return {
      roles: ["sds", "sdc"],
      devices: [{ path: "/dev/sdb", domain: "pd1", pool: "pool1" }],
      client: { kind: "client", id: `guid-${agentId}`, state: "Connected" },
    };
  }
}

export function offer(agentId: string, host: string): Offer {
  return {
    id: { value: `offer-${agentId}-${Math.random()}` },
    framework_id: { value: "fw" },
    agent_id: { value: agentId },
    hostname: host,
    resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 4 } }],
    attributes: [{ name: "rack", type: "TEXT", text: { value: "r1" } }],
    domain: { fault_domain: { region: { name: "eu" }, zone: { name: "z1" } } },
  } as unknown as Offer;
}

export interface OperatorFixture {
  app: FastifyInstance;
  sched: FrameworkScheduler;
  platform: GatedPlatform;
  view: OperatorView;
  metrics: Metrics;
  dir: string;
  /** Every route the server registered, as "METHOD /path". */
  routes: string[];
  close(): Promise<void>;
}

export async function operatorFixture(
  o: {
    protectReads?: boolean;
    withRescan?: boolean;
    token?: string | null;
    agents?: number;
    /** Events the hub keeps for replay (default 500). */
    capacity?: number;
    /** More server options (limits, event streams...). */
    server?: Partial<ApiServerOptions>;
    /** A platform of the test's own (e.g. one with health, pools and history). */
    platform?: GatedPlatform;
  } = {},
): Promise<OperatorFixture> {
  const dir = mkdtempSync(join(tmpdir(), "api-test-"));
  const metrics = new Metrics();
  const store = metrics.timeStore(await FileStateStore.open(join(dir, "state")));
  const platform = o.platform ?? new GatedPlatform(o.withRescan);
  const sched = await FrameworkScheduler.create({
    // Never started: nothing connects here.
    master: "http://127.0.0.1:9",
    frameworkInfo: { user: "root", name: "scaleio-test", roles: ["scaleio"] },
    role: "scaleio",
    store,
    platform,
    secrets: { adminPassword: new Secret(PASSWORD, "test") },
    executorFor: () => {
      throw new Error("no executors here");
    },
    logger: silentLogger,
    retry: { initialMs: 50, maxMs: 200 },
  });
  for (let i = 0; i < (o.agents ?? 2); i++)
    await sched.agents.observe(offer(`agent-${i}`, `host-${i}`));
  await platform.start({
    engine: sched.engine,
    agents: sched.agents,
    store,
    logger: silentLogger,
    runNode: () => Promise.reject(new Error("no executors here")),
  });
  const view = new OperatorView(sched, {
    settleMs: 20,
    ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
  });
  metrics.bindView(view);
  metrics.countClient(sched.client);
  view.start();
  sched.engine.start();
  const token = o.token === null ? undefined : new Secret(o.token ?? TOKEN, "test");
  const routes: string[] = [];
  const app = buildApiServer({
    onRoute: (method, url) => routes.push(`${method} ${url}`),
    version: "1.2.3",
    vault: sched.vault,
    health: { subscribed: () => sched.subscribed, checkStore: () => store.checkWritable() },
    operator: view,
    metrics,
    apiToken: token,
    protectReads: o.protectReads ?? false,
    keepAliveMs: 200,
    ...o.server,
  });
  return {
    app,
    sched,
    platform,
    view,
    metrics,
    dir,
    routes,
    close: async () => {
      await view.stop();
      await app.close();
      await sched.engine.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
