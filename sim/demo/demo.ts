// `scaleio-framework demo`: the whole product on one machine. Starts the development Mesos
// cluster (agents on their own loopback addresses, three with two file-backed raw devices),
// the ScaleIO emulator as a set of bare machines, and the scheduler, which provisions a
// 3-node MDM cluster and every agent; prints progress and a summary once healthy.
import {
  accessSync,
  closeSync,
  constants,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { destination, pino } from "pino";
import { startDevCluster, type DevCluster } from "../mesos/index.js";
import type { AgentHandle } from "../mesos/cluster.js";
import { startEmulator, type Emulator } from "../scaleio/emulator.js";
import { emulatedNodeEnv, packageFileName } from "../scaleio/node/packages.js";
import { dvdcliTarballName, rexrayTarballName } from "../scaleio/volume-driver/packages.js";
import { DEFAULT_VERSION } from "../scaleio/model/versions.js";
import { loadConfig } from "../../src/cli/config/load.js";
import { startScheduler, type SchedulerHandle } from "../../src/cli/scheduler.js";
import type { PlanView } from "../../src/framework/plan/types.js";
import { CommanderError } from "commander";
import { packageRoot } from "../../src/common/paths.js";
import { defaultDeadlineMs, parseDemoArgs, type DemoArgs } from "./options.js";
import { osOfAgent, prepareEmulatedOs, type EmulatedOsName } from "../mesos/emulated-os.js";

export interface DemoOptions {
  agents: number;
  /** Agents (the first N) that get two raw devices each. */
  storageAgents?: number;
  deviceGb?: number;
  exitWhenHealthy?: boolean;
  /** How long the deploy may take (default: grows with the agents, defaultDeadlineMs). */
  deadlineMs?: number;
  out?: (line: string) => void;
  /** Scheduler logs (JSON) go here; default: discarded. */
  logFile?: string;
  /** Mesos attributes per agent index (default `rack:r<1..3>`). */
  attributes?: (index: number) => string;
  /** How fast the master gives up on a silent agent (tests of lost agents). */
  agentPingTimeoutMs?: number;
  /** Emulated operating systems of the agents, round robin (`--os`). */
  os?: EmulatedOsName[];
  /** Called for each node once its disks exist, before the scheduler starts. */
  prepareNode?: (host: string, index: number, root: string) => void;
  /** Extra scheduler flags (e.g. strategy imperative); undefined leaves out a demo default. */
  flags?: Record<string, string | undefined>;
  /**
   * Node steps cost (almost) nothing outside the framework: executors run inside the agent
   * processes and the emulator's tools answer over loopback HTTP (in-process-executor.ts).
   */
  zeroLatency?: boolean;
  /** Agents per agent host process (many-agents mode; zero-latency mode only). */
  agentsPerProcess?: number;
  /**
   * Agents share host processes (two; one up to five agents) and run their executors inside
   * them: zero-latency mode with sharedAgentsPerProcess(). What a large demo
   * needs to fit on one machine; the scheduler, master and emulator are unchanged, and every
   * call between them and the agents is still HTTP. No agent can be killed alone.
   */
  sharedProcesses?: boolean;
  /**
   * First wait before an agent resends an unacknowledged status update (default 500 ms, so
   * tests of lost updates end quickly; Mesos' own is 10 s).
   */
  statusUpdateRetryMs?: number;
}

export interface AddAgentOptions {
  /** Raw device files to give the new node (names under its /dev). */
  devices?: string[];
  attributes?: string;
}

/** The development world without the scheduler: Mesos, the emulator, the scheduler's config. */
export interface DemoWorld {
  dir: string;
  cluster: DevCluster;
  emulator: Emulator;
  /** What `loadConfig` needs to start the scheduler against this world. */
  schedulerConfig: { env: Record<string, string>; flags: Record<string, string | undefined> };
  /** Each agent's emulated root folder is `<nodesDir>/<agent address>`. */
  nodesDir: string;
  /** Gives a node a new file-backed raw device; returns its path on the node. */
  addDevice(host: string, name: string, gb?: number): string;
  stop(): Promise<void>;
}

export interface Demo {
  apiUrl: string;
  /** The demo's working folder (the scheduler's state is in `scheduler-state`). */
  dir: string;
  cluster: DevCluster;
  emulator: Emulator;
  scheduler: SchedulerHandle;
  /** Resolves with the plan view once the deploy plan is complete. */
  healthy: Promise<PlanView>;
  /** Each agent's emulated root folder is `<nodesDir>/<agent address>`. */
  nodesDir: string;
  /** A file-backed raw device on a node (a disk plugged in). */
  addDevice(host: string, name: string, gb?: number): string;
  /** A new machine joins the Mesos cluster (it is on-boarded without operator action). */
  addAgent(o?: AddAgentOptions): Promise<AgentHandle>;
  stop(): Promise<void>;
}

const PASSWORD_ENV = "SCALEIO_ADMIN_PASSWORD";
const TOKEN_ENV = "SCALEIO_FRAMEWORK_API_TOKEN";
/**
 * Secrets the demo may find in its environment. They are taken out of it before any agent
 * starts: agents are child processes, executors inherit the agent's environment, and an
 * executor's environment is readable in /proc and shown by Mesos. The scheduler gets its
 * secrets in loadConfig's `env`, never from the process environment.
 */
export const DEMO_SECRET_ENV = [
  PASSWORD_ENV,
  TOKEN_ENV,
  "SCALEIO_FRAMEWORK_MESOS_SECRET",
  "SCALEIO_SIM_ADMIN_PASSWORD",
] as const;

let taken: { password: string; apiToken: string } | undefined;

/** Reads the demo's secrets once and removes every secret variable from process.env. */
function takeDemoSecrets(): { password: string; apiToken: string } {
  taken ??= {
    password: process.env[PASSWORD_ENV] || "Demo-Adm1n-Pass",
    apiToken: process.env[TOKEN_ENV] || "demo-api-token",
  };
  for (const name of DEMO_SECRET_ENV) delete process.env[name];
  return taken;
}

/** The ScaleIO admin password of the demo (SCALEIO_ADMIN_PASSWORD, else a fixed one). */
export function demoPassword(): string {
  return takeDemoSecrets().password;
}

function sparseFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

const inProcessExecutor = fileURLToPath(
  new URL(`./in-process-executor${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** The product's version (what /version answers), as the scheduler command reports it. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** A fresh folder in memory (/dev/shm) when the machine has one we can write, else none. */
function memoryDir(prefix: string): string | undefined {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return mkdtempSync(join("/dev/shm", prefix));
  } catch {
    return undefined;
  }
}

/** Agents per host process in shared mode: the deploy benchmark's split, two host processes. */
export function sharedAgentsPerProcess(agents: number): number {
  return Math.max(5, Math.ceil(agents / 2));
}

export async function startDemoWorld(given: DemoOptions): Promise<DemoWorld> {
  const o: DemoOptions = given.sharedProcesses
    ? {
        ...given,
        zeroLatency: true,
        agentsPerProcess: given.agentsPerProcess ?? sharedAgentsPerProcess(given.agents),
      }
    : given;
  const dir = mkdtempSync(join(tmpdir(), "scaleio-demo-"));
  // Zero-latency mode: the emulated world's own files (agent checkpoints, the emulator's
  // state, the nodes' folders) live in memory, so its disk writes are not counted as the
  // framework's. The scheduler's state stays on disk: its fsyncs are part of what is measured.
  const simDir = (o.zeroLatency ? memoryDir("scaleio-sim-") : undefined) ?? dir;
  // The operator API's token for changes (pause, resume...): the environment's, or the demo's.
  // Taken out of the environment before the agents (and so the executors) are started.
  const { password, apiToken } = takeDemoSecrets();
  const emulator = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    stateDir: join(simDir, "scaleio"),
    bootstrap: false,
  });
  const nodesDir = join(simDir, "nodes");
  const cluster = await startDevCluster({
    agents: o.agents,
    workDir: join(simDir, "mesos"),
    agentSpecs: Array.from({ length: o.agents }, (_, i) => ({
      resources: "cpus:4;mem:8192;disk:20480;ports:[31000-32000]",
      attributes: o.attributes?.(i) ?? `rack:r${(i % 3) + 1}`,
    })),
    ...(o.zeroLatency && o.agentsPerProcess ? { agentsPerProcess: o.agentsPerProcess } : {}),
    master: {
      heartbeatIntervalMs: 2000,
      allocationIntervalMs: 100,
      ...(o.agentPingTimeoutMs
        ? { agentPingTimeoutMs: o.agentPingTimeoutMs, maxAgentPingTimeouts: 3 }
        : {}),
    },
    agent: {
      statusUpdateRetryMs: o.statusUpdateRetryMs ?? 500,
      ...(o.zeroLatency ? { inProcessExecutorModule: inProcessExecutor } : {}),
      // Each agent is one emulated ScaleIO node: its tools, its address, its root folder.
      executorEnv: {
        ...emulatedNodeEnv(emulator.controlUrl, nodesDir),
      },
    },
  });
  const addDevice = (host: string, name: string, gb = o.deviceGb ?? 100): string => {
    const bytes = gb * 2 ** 30;
    mkdirSync(join(nodesDir, host, "dev"), { recursive: true });
    sparseFile(join(nodesDir, host, "dev", name), bytes);
    emulator.sys.node(host).deviceSizesKb.set(`/dev/${name}`, bytes / 1024);
    return `/dev/${name}`;
  };
  for (const [i, a] of cluster.agents.entries()) {
    mkdirSync(join(nodesDir, a.host, "dev"), { recursive: true });
    if (i < (o.storageAgents ?? 3)) for (const name of ["sdb", "sdc"]) addDevice(a.host, name);
    const os = osOfAgent(o.os ?? [], i);
    if (os) prepareEmulatedOs(join(nodesDir, a.host), os); // inside the node's own root
    o.prepareNode?.(a.host, i, join(nodesDir, a.host));
  }
  const repo = (c: string) =>
    `${emulator.controlUrl}/repo/${packageFileName(c as never, DEFAULT_VERSION, "rpm")}`;
  const schedulerConfig = {
    env: { [PASSWORD_ENV]: password, [TOKEN_ENV]: apiToken },
    flags: {
      master: cluster.masterUrl,
      "api-address": "127.0.0.1",
      "api-port": "0",
      "state-dir": join(dir, "scheduler-state"),
      "gateway-url": emulator.gatewayUrl,
      "gateway-ca-file": emulator.caFile,
      "executor-cpu-mdm": "1",
      "executor-mem-mdm": "1024",
      "executor-cpu-non": "0.5",
      "executor-mem-non": "256",
      ...Object.fromEntries(
        ["mdm", "sds", "sdc", "lia", "gateway"].map((c) => [`package-rpm-${c}`, repo(c)]),
      ),
      // REX-Ray and dvdcli installed on every agent, as an operator would configure them: the
      // failover walk-through then goes through the installed copies.
      "rexray-url": `${emulator.controlUrl}/repo/${rexrayTarballName()}`,
      "dvdcli-url": `${emulator.controlUrl}/repo/${dvdcliTarballName()}`,
      // Ubuntu agents (--os) take the deb packages; CoreOS/Flatcar kernels need the driver repository.
      ...(o.os
        ? {
            ...Object.fromEntries(
              ["mdm", "sds", "sdc", "lia", "gateway"].map((c) => [
                `package-deb-${c}`,
                `${emulator.controlUrl}/repo/${packageFileName(c as never, DEFAULT_VERSION, "deb")}`,
              ]),
            ),
            "sdc-driver-repo": emulator.driverRepoUrl,
          }
        : {}),
      ...o.flags,
    },
  };
  return {
    dir,
    cluster,
    emulator,
    schedulerConfig,
    nodesDir,
    addDevice,
    stop: async () => {
      await cluster.stop();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
      if (simDir !== dir) rmSync(simDir, { recursive: true, force: true });
    },
  };
}

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const out = o.out ?? ((l: string) => console.log(l));
  const world = await startDemoWorld(o);
  const { cluster, emulator, dir, nodesDir, addDevice } = world;
  const loaded = loadConfig(world.schedulerConfig);
  const logger = pino(
    { level: "info" },
    o.logFile ? destination(o.logFile) : destination("/dev/null"),
  );
  // Short retry pauses: on a busy machine a step that fails once should not wait a minute.
  const scheduler = await startScheduler(loaded, packageVersion(), {
    logger,
    retry: { initialMs: 200, maxMs: 2000 },
    // New and returning agents are noticed within a couple of seconds.
    discoverAgentsEveryMs: 2000,
  });
  out(`api: ${scheduler.apiUrl}`);
  // The emulator's REST gateway and its control endpoint (faults and knobs: /admin/...).
  out(`gateway: ${emulator.gatewayUrl}`);
  out(`control: ${emulator.controlUrl}`);
  if (o.logFile) out(`log: ${o.logFile}`);
  // `--state file:///...`: where to look afterwards (the state outlives the demo).
  if (o.flags?.state) out(`state: ${o.flags.state}`);
  if (o.sharedProcesses) {
    const hosts = Math.ceil(o.agents / (o.agentsPerProcess ?? sharedAgentsPerProcess(o.agents)));
    out(`agents: ${o.agents} in ${hosts} shared host processes, executors inside them`);
  }

  const engine = scheduler.scheduler.engine;
  // A step's status changes in memory before its event (the change is persisted in between):
  // healthy waits for the verification's own event, so its line has been printed.
  let verified = false;
  engine.on("step", (plan, phase, step) => {
    if (plan === "deploy" && step.id === "verify/cluster") verified = step.status === "COMPLETE";
    if (step.status === "COMPLETE" || step.status === "ERROR") {
      out(
        `  [${phase}] ${step.name}: ${step.status}${step.lastError ? ` (${step.lastError})` : ""}`,
      );
    }
  });
  const healthy = (async () => {
    // The plan exists once the first agents are known.
    const deadline = Date.now() + (o.deadlineMs ?? defaultDeadlineMs(o.agents));
    while (!engine.planIds().includes("deploy")) {
      if (Date.now() > deadline) throw new Error("no deploy plan: no agents offered resources");
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      return await engine.waitFor(
        "deploy",
        // Complete with every agent's facts and the verification in it: while the last
        // agent's facts are being recorded, the plan can be complete for a moment without
        // that agent's steps and the verify step.
        (v) =>
          verified &&
          v.status === "COMPLETE" &&
          v.phases[0]!.steps.length === o.agents &&
          v.phases.some((p) => p.steps.some((st) => st.id === "verify/cluster")),
        Math.max(1000, deadline - Date.now()),
      );
    } catch (err) {
      // Say which steps are not done, and why.
      const open = engine
        .view("deploy")
        .phases.flatMap((p) => p.steps)
        .filter((st) => st.status !== "COMPLETE")
        .slice(0, 8)
        .map(
          (st) =>
            `${st.id} ${st.status}${st.lastError ? `: ${st.lastError}` : ""}${st.message ? ` (${st.message})` : ""}`,
        );
      throw new Error(`${(err as Error).message}; not done: ${open.join("; ")}`);
    }
  })();
  return {
    apiUrl: scheduler.apiUrl,
    dir,
    cluster,
    emulator,
    scheduler,
    healthy,
    nodesDir,
    addDevice,
    addAgent: async (a: AddAgentOptions = {}) => {
      const index = cluster.agents.length;
      // The machine (its root and disks) exists before its Mesos agent starts.
      const host = cluster.hostFor(index);
      mkdirSync(join(nodesDir, host, "dev"), { recursive: true });
      for (const name of a.devices ?? []) addDevice(host, name);
      return cluster.addAgent({
        resources: "cpus:4;mem:8192;disk:20480;ports:[31000-32000]",
        attributes: a.attributes ?? `rack:r${(index % 3) + 1}`,
      });
    },
    stop: async () => {
      await scheduler.stop();
      await world.stop();
    },
  };
}

/**
 * Deployed is not yet healthy: resolves once an observation after the deploy finds no
 * condition (an MDM alert is one), or fails naming what is still reported.
 */
export function untilHealthy(demo: Demo, timeoutMs: number): Promise<void> {
  const monitor = demo.scheduler.view.health;
  const observer = demo.scheduler.platform.health;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (monitor.report().status !== "healthy") return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      const r = monitor.report();
      const what = r.conditions.map((c) => `${c.type} ${c.object}`).join(", ");
      reject(new Error(`health ${r.status} after ${timeoutMs / 1000} s${what ? `: ${what}` : ""}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      monitor.off("change", check);
      observer?.off("observed", check);
    };
    monitor.on("change", check);
    observer?.on("observed", check);
    check();
  });
}

/**
 * The MDM cluster in words without repeats: the mode (`3_node`, `ThreeNodes`) when it says
 * something the state (`ClusteredNormal`) does not; a bare `Cluster` says nothing more.
 */
export function mdmWords(mode: string | undefined, state: string | undefined): string {
  const saysMore = !!mode && mode !== "Cluster" && !(state ?? "").startsWith(mode);
  return [saysMore ? mode : undefined, state].filter(Boolean).join(" ") || "?";
}

async function usedStateKeysOf(url: string): Promise<string[]> {
  const { usedStateKeys } = await import("./process-demo.js");
  return usedStateKeys(url);
}

export async function runDemo(argv: string[]): Promise<void> {
  let args: DemoArgs | undefined;
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    // Commander has said what is wrong (and how to ask for help); nothing was started.
    if (err instanceof CommanderError) process.exit(err.exitCode);
    throw err;
  }
  if (!args) return; // --help
  if (args.state) {
    // A demo starts afresh: the state of an earlier run names a framework and a cluster
    // that the new development world has never seen.
    let used: string[];
    try {
      used = await usedStateKeysOf(args.state);
    } catch (err) {
      // The demo does not run ZooKeeper: the user does (the usual slip: it is not running).
      const hint = /^zk:/i.test(args.state)
        ? " (is ZooKeeper running there? the demo does not start it)"
        : "";
      console.error(
        `scaleio-framework: cannot use --state ${args.state}: ${(err as Error).message}${hint}`,
      );
      process.exit(1);
    }
    if (used.length > 0) {
      console.error(
        `scaleio-framework: --state ${args.state} already holds state (${used.slice(0, 3).join(", ")}${used.length > 3 ? ", ..." : ""}): the demo starts afresh; give it a path of its own, or clear this one (scaleio-framework state delete --all --state ${args.state} --yes)`,
      );
      process.exit(2);
    }
  }
  // State in ZooKeeper: the schedulers are real scheduler processes that elect a leader.
  if (args.state && /^zk:\/\//i.test(args.state)) {
    const { runProcessDemo } = await import("./process-demo.js");
    return runProcessDemo({ ...args, state: args.state });
  }
  const { agents, exitWhenHealthy, failover, logFile, deadlineMs, sharedProcesses } = args;
  const starting = startDemo({
    agents,
    ...(args.os ? { os: args.os } : {}),
    exitWhenHealthy,
    logFile,
    deadlineMs,
    sharedProcesses,
    // The failover walk-through kills an agent: let the master notice within seconds.
    ...(failover ? { agentPingTimeoutMs: 1000 } : {}),
    ...(args.state ? { flags: { state: args.state } } : {}),
  });
  // Signals are handled from the start: a Ctrl-C or `timeout` during the deploy must stop the
  // executors too (each is in its own process group; nothing else would).
  const exit = stopOnSignals(starting);
  const stopAndExit = exit.stopAndExit;
  const demo = await starting;
  if (exit.stopping) return;
  const startedAt = Date.now();
  try {
    await demo.healthy;
    await untilHealthy(demo, 60_000);
    const s = await demo.scheduler.summary();
    const gib = (kb: number) => `${(kb / 2 ** 20).toFixed(0)} GiB`;
    const spare = demo.scheduler.platform
      .pools()
      .map((p) => `${p.group}/${p.name} ${p.sparePercentage} %`)
      .join(", ");
    console.log(
      `healthy in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: MDM cluster ${mdmWords(s.mdmMode, s.clusterState)}, ` +
        `${s.sdsConnected}/${s.sdsTotal} SDS connected, raw ${gib(s.rawCapacityKb)}, usable ${gib(s.usableCapacityKb)}, ` +
        `${s.sdcConnected}/${s.sdcTotal} SDC connected, spare ${spare || "?"}, ${s.alerts.length} MDM alerts, no health condition`,
    );
    if (failover) {
      // The walk-through of README "Failover of an application's data".
      const { runFailover } = await import("./failover.js");
      const r = await runFailover(demo, { password: demoPassword() });
      console.log(
        r.read === r.written
          ? `failover ok: volume ${r.volumeId} read back on another agent with the same sha256`
          : `failover FAILED: wrote ${r.written}, read ${r.read}`,
      );
      if (r.read !== r.written) return stopAndExit(1);
    }
    if (exitWhenHealthy) return stopAndExit(0);
  } catch (err) {
    if (exit.stopping) return; // stopped by a signal: the deploy was cut short, not unhealthy
    console.error(`not healthy: ${(err as Error).message}`);
    return stopAndExit(1);
  }
}

/**
 * Stops what the demo started (once it has started it) and exits, on SIGINT or SIGTERM from
 * now on, or when called. A second signal while stopping finds the stop under way (a `once`
 * handler would leave it to the default action, which kills the demo without its cleanup).
 */
export function stopOnSignals(starting: Promise<{ stop(): Promise<void> }>): {
  stopAndExit(code: number): Promise<void>;
  readonly stopping: boolean;
} {
  let stopping: Promise<void> | undefined;
  const stopAndExit = (code: number): Promise<void> =>
    (stopping ??= starting
      .then((d) => d.stop())
      .then(
        () => process.exit(code),
        (err: unknown) => {
          console.error(`stopping failed: ${(err as Error).message}`);
          process.exit(1);
        },
      ));
  process.on("SIGINT", () => void stopAndExit(0));
  process.on("SIGTERM", () => void stopAndExit(0));
  return {
    stopAndExit,
    get stopping() {
      return stopping !== undefined;
    },
  };
}
