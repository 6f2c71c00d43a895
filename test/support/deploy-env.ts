// A whole deploy environment for end-to-end tests: the development Mesos cluster (each agent
// one emulated ScaleIO node, some with file-backed raw devices), the ScaleIO emulator, and
// the REAL scheduler as a child process (`bin/scaleio-framework scheduler`, from dist/) that
// can be SIGKILLed and restarted on the same state directory. Also: what the emulator holds,
// and what Mesos has reserved for the framework's role.
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { destination, pino } from "pino";
import { loadConfig } from "../../src/cli/config/load.js";
import { startScheduler as runInProcess, type SchedulerHandle } from "../../src/cli/scheduler.js";
import { GatewayClient } from "../../src/platforms/scaleio/gateway/client.js";
import { Secret } from "../../src/common/secret.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../sim/mesos/index.js";
import type { AgentSpec } from "../../sim/mesos/cluster.js";
import { startEmulator, type Emulator } from "../../sim/scaleio/emulator.js";
import type { BootstrapOptions } from "../../sim/scaleio/model/bootstrap.js";
import { emulatedNodeEnv, packageFileName } from "../../sim/scaleio/node/packages.js";
import { DEFAULT_VERSION } from "../../sim/scaleio/model/versions.js";
import type { ScaleioSystem } from "../../sim/scaleio/model/system.js";

export const BIN = fileURLToPath(new URL("../../bin/scaleio-framework", import.meta.url));
export const ROLE = "scaleio";
export const EXECUTOR = {
  mdm: { cpus: 1, memMb: 1024 },
  other: { cpus: 0.5, memMb: 256 },
  /** One node-step task (NodeTaskRunner's default). */
  task: { cpus: 0.05, memMb: 32 },
};

export interface DeployEnvOptions {
  agents: number;
  /** The executors report TASK_RUNNING after this long (their default: 250 ms). */
  runningAfterMs?: number;
  /** The first N agents get two raw devices each (default 3). */
  storageAgents?: number;
  deviceGb?: number;
  /** Per-agent overrides (attributes, fault domain); default: rack r1..r3 round robin. */
  agentSpec?: (i: number) => AgentSpec;
  master?: Parameters<typeof startDevCluster>[0] extends infer O
    ? O extends { master?: infer M }
      ? M
      : never
    : never;
  /** Build an emulator cluster before the scheduler starts (existing-cluster tests). */
  bootstrap?: BootstrapOptions;
}

export interface StepLine {
  plan: string;
  phase: string;
  step: string;
  status: string;
  attempts: number;
  lastError?: string;
}

export interface SchedulerProc extends EventEmitter<{
  step: [StepLine];
  plan: [{ plan: string; status: string; complete: number; total: number }];
  line: [Record<string, unknown>];
}> {
  child: ChildProcess;
  apiUrl(): string | undefined;
  /** Every step line this process printed, in order. */
  steps: StepLine[];
  stderr(): string;
  exited: Promise<number | null>;
  sigkill(): Promise<void>;
  stop(): Promise<number | null>;
}

export interface DeployEnv {
  dir: string;
  stateDir: string;
  password: string;
  emulator: Emulator;
  cluster: DevCluster;
  /** Flags every scheduler of this environment gets. */
  flags: string[];
  startScheduler(extra?: string[], env?: Record<string, string>): SchedulerProc;
  /** The scheduler in this process (its registry, engine and platform at hand). */
  startInProcess(extra?: string[]): Promise<SchedulerHandle>;
  /** A gateway client with the admin password. */
  gateway(): GatewayClient;
  /** Reserved resources of our role per agent, and what Mesos says runs there. */
  mesosState(): Promise<MesosView>;
  stop(): Promise<void>;
}

export interface MesosView {
  reservedByAgent: Map<string, { cpus: number; memMb: number; labels: string[] }>;
  /** Our framework's executors: agent id -> executor ids. */
  executorsByAgent: Map<string, string[]>;
  /** Our framework's non-terminal tasks. */
  activeTasks: { id: string; agentId: string; state: string }[];
  frameworkIds: string[];
  activeAgents: string[];
}

function sparseFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

export async function startDeployEnv(o: DeployEnvOptions): Promise<DeployEnv> {
  const dir = mkdtempSync(join(tmpdir(), "deploy-env-"));
  const password = "Crash-Adm1n-pw";
  const emulator = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    stateDir: join(dir, "scaleio"),
    bootstrap: o.bootstrap ?? false,
  });
  const nodesDir = join(dir, "nodes");
  let cluster: DevCluster;
  try {
    cluster = await startDevCluster({
      agents: o.agents,
      workDir: join(dir, "mesos"),
      agentSpecs: Array.from({ length: o.agents }, (_, i) => ({
        resources: "cpus:4;mem:8192;disk:20480;ports:[31000-32000]",
        attributes: `rack:r${(i % 3) + 1}`,
        ...o.agentSpec?.(i),
      })),
      master: { heartbeatIntervalMs: 1000, allocationIntervalMs: 100, ...o.master },
      agent: {
        statusUpdateRetryMs: 500,
        registrationBackoffMs: 200,
        executorEnv: {
          ...emulatedNodeEnv(emulator.controlUrl, nodesDir),
          SCALEIO_FRAMEWORK_LOG_LEVEL: "warn",
          ...(o.runningAfterMs !== undefined
            ? { SCALEIO_FRAMEWORK_RUNNING_AFTER_MS: String(o.runningAfterMs) }
            : {}),
        },
      },
    });
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const deviceBytes = (o.deviceGb ?? 100) * 2 ** 30;
  for (const [i, a] of cluster.agents.entries()) {
    const root = join(nodesDir, a.host);
    mkdirSync(join(root, "dev"), { recursive: true });
    if (i < (o.storageAgents ?? 3)) {
      for (const name of ["sdb", "sdc"]) {
        sparseFile(join(root, "dev", name), deviceBytes);
        emulator.sys.node(a.host).deviceSizesKb.set(`/dev/${name}`, deviceBytes / 1024);
      }
    }
  }
  const stateDir = join(dir, "scheduler-state");
  const repo = (c: string) =>
    `${emulator.controlUrl}/repo/${packageFileName(c as never, DEFAULT_VERSION, "rpm")}`;
  const flags = [
    "--master",
    cluster.masterUrl,
    "--api-address",
    "127.0.0.1",
    "--api-port",
    "0",
    "--state-dir",
    stateDir,
    "--gateway-url",
    emulator.gatewayUrl,
    "--gateway-ca-file",
    emulator.caFile!,
    "--executor-cpu-mdm",
    String(EXECUTOR.mdm.cpus),
    "--executor-mem-mdm",
    String(EXECUTOR.mdm.memMb),
    "--executor-cpu-non",
    String(EXECUTOR.other.cpus),
    "--executor-mem-non",
    String(EXECUTOR.other.memMb),
    // Short retry pauses, as the demo: a step failing on a busy machine retries soon.
    "--step-retry-initial-ms",
    "200",
    "--step-retry-max-ms",
    "2000",
    ...["mdm", "sds", "sdc", "lia", "gateway"].flatMap((c) => [`--package-rpm-${c}`, repo(c)]),
  ];
  const procs: SchedulerProc[] = [];
  const handles: SchedulerHandle[] = [];
  const clients: GatewayClient[] = [];

  const startInProcess = async (extra: string[] = []) => {
    const argv = [...flags, ...extra];
    const record: Record<string, string> = {};
    for (let i = 0; i < argv.length; i += 2) record[argv[i]!.replace(/^--/, "")] = argv[i + 1]!;
    const loaded = loadConfig({ env: { SCALEIO_ADMIN_PASSWORD: password }, flags: record });
    const h = await runInProcess(loaded, "test", {
      logger: pino({ level: "info" }, destination(join(dir, `scheduler-${handles.length}.log`))),
    });
    handles.push(h);
    return h;
  };
  const gateway = () => {
    const c = new GatewayClient({
      url: emulator.gatewayUrl,
      password: new Secret(password, "test"),
      ca: readFileSync(emulator.caFile!),
      insecure: false,
      apiVersion: "2.0",
    });
    clients.push(c);
    return c;
  };

  const startScheduler = (extra: string[] = [], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [BIN, "scheduler", ...flags, ...extra], {
      env: {
        ...process.env,
        SCALEIO_ADMIN_PASSWORD: password,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = new EventEmitter() as SchedulerProc;
    let out = "";
    let err = "";
    let partial = "";
    proc.child = child;
    proc.steps = [];
    proc.apiUrl = () => /^api: (\S+)$/m.exec(out)?.[1];
    proc.stderr = () => err;
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      partial += d.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const l of lines) {
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(l) as Record<string, unknown>;
        } catch {
          continue;
        }
        proc.emit("line", rec);
        if (rec.msg === "step") {
          const s = rec as unknown as StepLine;
          proc.steps.push(s);
          proc.emit("step", s);
        } else if (rec.msg === "plan") {
          proc.emit("plan", rec as never);
        }
      }
    });
    proc.exited = new Promise((r) => child.once("exit", (code) => r(code)));
    proc.sigkill = async () => {
      child.kill("SIGKILL");
      await proc.exited;
    };
    proc.stop = async () => {
      child.kill("SIGTERM");
      return proc.exited;
    };
    procs.push(proc);
    return proc;
  };

  const mesosState = async (): Promise<MesosView> => {
    const state = (await (await fetch(`${cluster.masterUrl}/state`)).json()) as MasterState;
    const reservedByAgent = new Map<string, { cpus: number; memMb: number; labels: string[] }>();
    for (const a of state.slaves) {
      const rs = a.reserved_resources_full?.[ROLE] ?? [];
      if (rs.length === 0) continue;
      const sum = { cpus: 0, memMb: 0, labels: [] as string[] };
      for (const r of rs) {
        if (r.name === "cpus") sum.cpus += r.scalar?.value ?? 0;
        if (r.name === "mem") sum.memMb += r.scalar?.value ?? 0;
        for (const res of r.reservations ?? [])
          for (const l of res.labels?.labels ?? []) sum.labels.push(`${l.key}=${l.value}`);
      }
      sum.cpus = Math.round(sum.cpus * 1000) / 1000;
      reservedByAgent.set(a.id, sum);
    }
    const ours = state.frameworks.filter((f) => f.roles.includes(ROLE));
    const executorsByAgent = new Map<string, string[]>();
    for (const f of ours)
      for (const e of f.executors)
        executorsByAgent.set(e.slave_id, [
          ...(executorsByAgent.get(e.slave_id) ?? []),
          e.executor_id.value,
        ]);
    return {
      reservedByAgent,
      executorsByAgent,
      activeTasks: ours.flatMap((f) =>
        f.tasks.map((t) => ({ id: t.id, agentId: t.slave_id, state: t.state })),
      ),
      frameworkIds: ours.map((f) => f.id),
      activeAgents: state.slaves.filter((a) => a.active).map((a) => a.id),
    };
  };

  return {
    dir,
    stateDir,
    password,
    emulator,
    cluster,
    flags,
    startScheduler,
    startInProcess,
    gateway,
    mesosState,
    stop: async () => {
      for (const c of clients) await c.close().catch(() => {});
      for (const h of handles) await h.stop().catch(() => {});
      for (const p of procs) if (p.child.exitCode === null) await p.sigkill();
      await cluster.stop();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface MasterState {
  frameworks: {
    id: string;
    roles: string[];
    tasks: { id: string; slave_id: string; state: string }[];
    executors: { executor_id: { value: string }; slave_id: string }[];
  }[];
  slaves: {
    id: string;
    active: boolean;
    reserved_resources_full?: Record<
      string,
      {
        name: string;
        scalar?: { value: number };
        reservations?: { labels?: { labels: { key: string; value: string }[] } }[];
      }[]
    >;
  }[];
}

/** What the emulator holds, with every kind of object that must never be duplicated. */
export interface EmulatorObjects {
  mdms: { name: string; ip: string; role: string }[];
  clusterMode: string | undefined;
  clusterState: string;
  protectionDomains: string[];
  pools: string[];
  faultSets: string[];
  sds: { name: string; ip: string }[];
  devices: string[];
  volumes: string[];
  sdcs: string[];
  /** Installed packages per node ip: component list. */
  packages: Map<string, string[]>;
}

export function emulatorObjects(sys: ScaleioSystem): EmulatorObjects {
  const pdName = (id: string) => sys.pds.get(id)?.name ?? id;
  const sdsName = (id: string) => sys.sdss.get(id)?.name ?? id;
  return {
    mdms: sys.cluster.members.map((m) => ({ name: m.name, ip: m.ips[0]!, role: m.role })),
    clusterMode: sys.cluster.members.length > 0 ? sys.cluster.mode : undefined,
    clusterState: sys.cluster.members.length > 0 ? sys.cluster.state() : "none",
    protectionDomains: [...sys.pds.values()].map((p) => p.name),
    pools: [...sys.pools.values()].map((p) => `${pdName(p.protectionDomainId)}/${p.name}`),
    faultSets: [...sys.faultSets.values()].map((f) => `${pdName(f.protectionDomainId)}/${f.name}`),
    sds: [...sys.sdss.values()].map((s) => ({ name: s.name, ip: s.ipList[0]!.ip })),
    devices: [...sys.devices.values()].map((d) => `${sdsName(d.sdsId)}:${d.path}`),
    volumes: sys.listVolumes().map((v) => v.name),
    sdcs: [...sys.sdcs.values()].map((s) => s.ip),
    packages: new Map(
      [...sys.nodes.values()].map((n) => [n.ip, [...n.packages.keys()].sort()] as const),
    ),
  };
}

/** The names in `list` that occur more than once. */
export function duplicates(list: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(list.filter((x) => (seen.has(x) ? true : (seen.add(x), false))))];
}

/** The first step line from now on that matches; fails if the scheduler exits first. */
export function waitForStep(
  proc: SchedulerProc,
  match: (s: StepLine) => boolean,
  timeoutMs: number,
  what: string,
): Promise<StepLine> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      proc.off("step", listener);
      proc.child.off("exit", onExit);
    };
    const listener = (s: StepLine) => {
      if (!match(s)) return;
      done();
      resolve(s);
    };
    const onExit = () => {
      done();
      reject(new Error(`scheduler exited while waiting for ${what}:\n${proc.stderr()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    proc.on("step", listener);
    proc.child.once("exit", onExit);
  });
}

/**
 * Counts the calls of the emulator's model that create something a deploy makes once: a
 * second successful call for the same thing would be work done twice.
 */
export function recordCreations(sys: ScaleioSystem): {
  adds: Map<string, number>;
  refused: string[];
} {
  const adds = new Map<string, number>();
  const refused: string[] = [];
  const count = (k: string) => adds.set(k, (adds.get(k) ?? 0) + 1);
  const wrapOn = <T extends object, K extends keyof T & string>(
    target: T,
    name: K,
    key: (args: Parameters<Extract<T[K], (...a: never[]) => unknown>>) => string,
  ) => {
    const original = (target[name] as (...a: unknown[]) => unknown).bind(target);
    (target as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      let out: unknown;
      try {
        out = original(...args);
      } catch (err) {
        // Refused (e.g. "already in use"): an attempt, not a second object.
        refused.push(`${name} ${key(args as never)}: ${(err as Error).message}`);
        throw err;
      }
      count(`${name} ${key(args as never)}`);
      return out;
    };
  };
  const wrap = <K extends keyof ScaleioSystem & string>(
    name: K,
    key: (args: Parameters<Extract<ScaleioSystem[K], (...a: never[]) => unknown>>) => string,
  ) => wrapOn(sys, name, key);
  wrap("createCluster", ([ip]) => ip);
  wrapOn(sys.cluster, "addStandby", ([ip]) => ip);
  wrapOn(sys.cluster, "switchMode", ([mode]) => mode);
  wrap("addProtectionDomain", ([name]) => name);
  wrap("addStoragePool", ([pd, name]) => `${pd}/${name}`);
  wrap("addSds", ([o]) => o.ips[0]?.ip ?? "?");
  wrap("addDevice", ([sdsId, path]) => `${sdsId}:${path}`);
  wrap("addVolume", ([o]) => o.name);
  return { adds, refused };
}
