// A development cluster: masters in this process, agents in child processes on their own
// loopback addresses, plus fault injection from code and over HTTP (`<master>/sim/...`).
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DomainInfo } from "../../src/mesos/types/index.js";
import { Master, type MasterOptions } from "./master/master.js";
import type { AgentOptions } from "./agent/agent.js";
import { Checkpointer } from "./agent/checkpoint.js";
import { killGroup } from "./agent/processes.js";
import { readBody, sendJson, sendText } from "./common/http.js";
import { emulatedHostEnv } from "./emulated-host.js";

/** An agent that shares its host process cannot be killed or restarted alone. */
export class SharedHostProcess extends Error {
  override name = "SharedHostProcess";
}

export interface AgentSpec {
  resources?: string;
  attributes?: string;
  /** Files to create under `<workDir>/attributes/` (name -> value). */
  attributeFiles?: Record<string, string>;
  domain?: DomainInfo;
  hostname?: string;
  /** Extra executor environment of this agent (see AgentOptions.executorEnv). */
  executorEnv?: Record<string, string>;
}

export interface DevClusterOptions {
  agents?: number;
  /** Per-agent overrides, by index. */
  agentSpecs?: AgentSpec[];
  /** Agents per host process (1 = one process each; more = many-agents mode). */
  agentsPerProcess?: number;
  masterPort?: number;
  masterHost?: string;
  zk?: string;
  /** Start a second, standby master (needed for failover with ZooKeeper). */
  standbyMaster?: boolean;
  workDir?: string;
  master?: Omit<MasterOptions, "host" | "port" | "zk" | "registryPath" | "standby">;
  agent?: Omit<
    AgentOptions,
    "host" | "masters" | "workDir" | "resources" | "attributes" | "domain"
  >;
  verbose?: boolean;
  /**
   * Executors run on the real machine (host commands and all). Off by default: every agent
   * is an emulated host (emulated-host.ts), so nothing a framework asks for changes the host.
   */
  hostPassthrough?: boolean;
}

interface Host {
  child: ChildProcess;
  agents: AgentHandle[];
  pending: Map<number, (v: unknown) => void>;
  exited: Promise<void>;
}

export interface AgentHandle {
  index: number;
  host: string;
  port: number;
  workDir: string;
  /** The agent id the master knows it by (after registration). */
  id(): Promise<string>;
  /** SIGKILL the agent process (executors keep running, like a crashed agent). */
  kill(): Promise<void>;
  /** Kill, then start again on the same address and work directory. */
  restart(): Promise<void>;
  /** Host reboot: the agent and its executors die, the agent comes back with a new agent
   *  id; checkpointed reservations and volumes are kept. */
  reboot(): Promise<void>;
  partition(): Promise<void>;
  heal(): Promise<void>;
  killExecutor(frameworkId: string, executorId: string): Promise<boolean>;
  state(): Promise<Record<string, unknown> | null>;
}

export interface DevCluster {
  readonly masterUrl: string;
  readonly master: Master;
  readonly masters: Master[];
  readonly agents: AgentHandle[];
  readonly workDir: string;
  /** The loopback address agent number `index` gets (also for one not started yet). */
  hostFor(index: number): string;
  /** Starts one more agent (its own process and address) that registers with the master. */
  addAgent(spec?: AgentSpec): Promise<AgentHandle>;
  /** Fail over to a new leader. `redirect`: the old master answers 307; `unavailable`: 503. */
  failoverMaster(mode?: "redirect" | "unavailable"): Promise<Master>;
  /** Drop the next `n` status updates relayed by agents (the agents will retry). */
  dropStatusUpdates(n: number): void;
  /** The next n launches never reach their agent (the tasks stay TASK_STAGING). */
  dropLaunches(n: number): void;
  delayStatusUpdates(ms: number): void;
  stop(): Promise<void>;
}

let seq = 0;

/** A /16 of 127.0.0.0/8 per cluster, so clusters started concurrently rarely share addresses. */
function addressBlock(): number {
  return 2 + ((process.pid * 7 + seq++ * 13 + Math.floor(Math.random() * 50)) % 250);
}

function agentEntry(): { script: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) {
    return {
      script: join(here, "..", "agent", "main.ts"),
      execArgv: ["--import", import.meta.resolve("tsx")],
    };
  }
  return { script: join(here, "..", "agent", "main.js"), execArgv: [] };
}

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), "sim-mesos-"));
  const ownsWorkDir = !opts.workDir;
  mkdirSync(workDir, { recursive: true });
  const registryPath = join(workDir, "registry.json");
  const block = addressBlock();
  const masterHost = opts.masterHost ?? `127.${block}.0.1`;
  const log = opts.verbose ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const masterOpts = (i: number, standby: boolean): MasterOptions => ({
    ...opts.master,
    host: i === 0 ? masterHost : `127.${block}.0.${i + 1}`,
    port: i === 0 ? (opts.masterPort ?? 0) : 0,
    registryPath,
    ...(opts.zk ? { zk: opts.zk } : {}),
    ...(standby ? { standby: true } : {}),
    ...(log ? { log } : {}),
  });
  const masters: Master[] = [];
  let current = new Master(masterOpts(0, false));
  masters.push(current);
  const installControl = (m: Master) => {
    m.extraRoute = (req, res, path) => control(req, res, path);
  };
  installControl(current);
  await current.start();
  if (opts.zk) await waitFor(() => current.leading, 15_000, "master to win the ZooKeeper election");
  if (opts.standbyMaster) {
    const standby = new Master(masterOpts(1, true));
    installControl(standby);
    await standby.start();
    masters.push(standby);
  }

  const count = opts.agents ?? 3;
  const perProcess = Math.max(1, opts.agentsPerProcess ?? 1);
  const hosts: Host[] = [];
  const handles: AgentHandle[] = [];
  const entry = agentEntry();
  let msgId = 0;
  let stopping = false;
  const masterUrls = () => masters.map((m) => m.url);

  const emulated = opts.hostPassthrough ? undefined : emulatedHostEnv(workDir);
  const hostFor = (i: number) =>
    `127.${block}.${1 + Math.floor((i + 2) / 250)}.${2 + ((i + 2) % 250)}`;
  const specFor = (i: number, given?: AgentSpec): AgentOptions => {
    const spec = given ?? opts.agentSpecs?.[i] ?? {};
    const host = hostFor(i);
    const dir = join(workDir, "agents", String(i));
    if (spec.attributeFiles) {
      mkdirSync(join(dir, "attributes"), { recursive: true });
      for (const [k, v] of Object.entries(spec.attributeFiles)) {
        writeFileSync(join(dir, "attributes", k), v);
      }
    }
    return {
      ...opts.agent,
      host,
      masters: masterUrls(),
      workDir: dir,
      ...(opts.zk ? { zk: opts.zk } : {}),
      fetcherCacheDir: join(workDir, "fetch-cache", host),
      ...(spec.resources ? { resources: spec.resources } : {}),
      ...(spec.attributes ? { attributes: spec.attributes } : {}),
      ...(spec.domain ? { domain: spec.domain } : {}),
      ...(spec.hostname ? { hostname: spec.hostname } : {}),
      ...(spec.executorEnv || opts.agent?.executorEnv || emulated
        ? {
            executorEnv: {
              ...emulated?.defaults,
              ...opts.agent?.executorEnv,
              ...spec.executorEnv,
            },
          }
        : {}),
      ...(emulated || opts.agent?.enforcedExecutorEnv
        ? {
            enforcedExecutorEnv: { ...emulated?.enforced, ...opts.agent?.enforcedExecutorEnv },
          }
        : {}),
    };
  };

  const startHost = async (specs: AgentOptions[], agentsOf: AgentHandle[]): Promise<Host> => {
    const cfg = join(workDir, `host-${agentsOf[0]!.index}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        agents: specs.map((s) => ({ ...s, masters: masterUrls() })),
        verbose: !!opts.verbose,
      }),
    );
    const child = fork(entry.script, [cfg], {
      // SIM_CPU_PROF=<dir>: a CPU profile of each agent host process there (benchmarks).
      execArgv: process.env.SIM_CPU_PROF
        ? [...entry.execArgv, "--cpu-prof", `--cpu-prof-dir=${process.env.SIM_CPU_PROF}`]
        : entry.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const pending = new Map<number, (v: unknown) => void>();
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const ready = new Promise<{ host: string; port: number }[]>((resolve, reject) => {
      child.on(
        "message",
        (m: { ready?: { host: string; port: number }[]; reply?: number; value?: unknown }) => {
          if (m.ready) resolve(m.ready);
          if (m.reply !== undefined) {
            pending.get(m.reply)?.(m.value);
            pending.delete(m.reply);
          }
        },
      );
      child.once("exit", (code) =>
        reject(new Error(`agent host exited with ${code} before ready`)),
      );
    });
    const h: Host = { child, agents: agentsOf, pending, exited };
    hosts.push(h);
    const ports = await ready;
    for (const p of ports) {
      const a = agentsOf.find((x) => x.host === p.host);
      if (a) a.port = p.port;
    }
    return h;
  };

  const hostOf = (a: AgentHandle) =>
    hosts.find(
      (h) => h.agents.includes(a) && h.child.exitCode === null && h.child.signalCode === null,
    );
  /**
   * Sends a control message. A host that is exiting (a group signal such as Ctrl-C or
   * `timeout` reaches it too) may have closed its channel: that is not this process's crash.
   */
  const send = (h: Host, msg: Record<string, unknown>, failed?: () => void): void => {
    if (!h.child.connected) return failed?.();
    h.child.send(msg, (err) => {
      if (!err) return;
      log?.(`agent host ${h.child.pid}: ${err.message}`);
      failed?.();
    });
  };
  const ask = (a: AgentHandle, msg: Record<string, unknown>): Promise<unknown> => {
    const h = hostOf(a);
    if (!h) return Promise.resolve(null);
    const id = msgId++;
    return new Promise((resolve) => {
      h.pending.set(id, resolve);
      send(h, { ...msg, host: a.host, id }, () => resolve(null));
      void h.exited.then(() => resolve(null));
    });
  };

  const specs: AgentOptions[] = [];
  const makeHandle = (i: number, spec: AgentOptions): AgentHandle => {
    const handle: AgentHandle = {
      index: i,
      host: spec.host,
      port: 0,
      workDir: spec.workDir,
      id: async () => {
        let id: string | undefined;
        await waitFor(
          async () => {
            const st = (await handle.state()) as { id?: string; registered?: boolean } | null;
            id = st?.registered ? st.id : undefined;
            return !!id;
          },
          30_000,
          `agent ${i} to register`,
        );
        return id!;
      },
      kill: async () => {
        const h = hostOf(handle);
        if (!h) return;
        if (h.agents.length > 1) {
          throw new SharedHostProcess(
            `agent ${i} shares its host process with ${h.agents.length - 1} other agent(s): ` +
              "killing or restarting one agent needs one process per agent (agentsPerProcess 1)",
          );
        }
        h.child.kill("SIGKILL");
        await h.exited;
      },
      restart: async () => {
        await handle.kill();
        await startHost([{ ...specs[i]!, masters: masterUrls() }], [handle]);
      },
      reboot: async () => {
        await handle.kill();
        const cp = new Checkpointer(handle.workDir);
        for (const pid of cp.allPids()) killGroup(pid, "SIGKILL");
        cp.forgetAfterReboot();
        await startHost([{ ...specs[i]!, masters: masterUrls() }], [handle]);
      },
      partition: async () => void (await ask(handle, { op: "partition" })),
      heal: async () => void (await ask(handle, { op: "heal" })),
      killExecutor: async (fid, eid) =>
        (await ask(handle, { op: "kill_executor", framework_id: fid, executor_id: eid })) === true,
      state: async () => (await ask(handle, { op: "state" })) as Record<string, unknown> | null,
    };
    return handle;
  };
  for (let i = 0; i < count; i++) {
    const spec = specFor(i);
    specs.push(spec);
    handles.push(makeHandle(i, spec));
  }
  try {
    const groups: Promise<Host>[] = [];
    for (let i = 0; i < count; i += perProcess) {
      groups.push(startHost(specs.slice(i, i + perProcess), handles.slice(i, i + perProcess)));
    }
    await Promise.all(groups);
  } catch (err) {
    await stopAll();
    throw err;
  }

  async function stopAll(): Promise<void> {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      hosts
        .filter((h) => h.child.exitCode === null && h.child.signalCode === null)
        .map(async (h) => {
          send(h, { op: "stop", kill_executors: true });
          const timer = setTimeout(() => h.child.kill("SIGKILL"), 5000);
          await h.exited;
          clearTimeout(timer);
        }),
    );
    // Executors of crashed (SIGKILLed) agents are still running: kill their groups.
    for (const a of handles) {
      for (const pid of new Checkpointer(a.workDir).allPids()) killGroup(pid, "SIGKILL");
    }
    await Promise.all(masters.map((m) => m.stop().catch(() => undefined)));
    if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
  }

  const cluster: DevCluster = {
    get masterUrl() {
      return current.url;
    },
    get master() {
      return current;
    },
    masters,
    agents: handles,
    workDir,
    hostFor,
    async addAgent(spec?: AgentSpec) {
      const i = handles.length;
      const options = specFor(i, spec);
      specs.push(options);
      const handle = makeHandle(i, options);
      handles.push(handle);
      await startHost([options], [handle]);
      return handle;
    },
    async failoverMaster(mode = "redirect") {
      const old = current;
      let next: Master;
      if (opts.zk) {
        next =
          masters.find((m) => m !== old && !m.leading) ??
          new Master(masterOpts(masters.length, true));
        if (!masters.includes(next)) {
          installControl(next);
          await next.start();
          masters.push(next);
        }
        await old.abdicate();
        await waitFor(() => next.leading, 15_000, "standby master to take over");
        if (mode === "unavailable") old.demote(undefined);
      } else {
        next = new Master(masterOpts(masters.length, true));
        installControl(next);
        await next.start();
        masters.push(next);
        old.demote(mode === "redirect" ? next.info : undefined);
        next.becomeLeader();
      }
      current = next;
      if (opts.zk) return next; // agents follow ZooKeeper themselves
      // Agents learn of the new leader (ZooKeeper would tell them).
      for (const h of hosts) {
        if (h.child.exitCode !== null || h.child.signalCode !== null) continue;
        send(h, {
          op: "masters",
          urls: [next.url, ...masterUrls().filter((u) => u !== next.url)],
        });
        for (const a of h.agents) send(h, { op: "redetect", host: a.host });
      }
      return next;
    },
    dropStatusUpdates(n) {
      current.faults.dropUpdates = n;
    },
    delayStatusUpdates(ms) {
      current.faults.delayUpdatesMs = ms;
    },
    dropLaunches(n) {
      current.faults.dropLaunches = n;
    },
    stop: stopAll,
  };

  /** Fault injection over HTTP: POST <master>/sim/<action>. */
  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === "GET" && path === "/sim/agents") {
      return sendJson(
        res,
        200,
        handles.map((a) => ({ index: a.index, host: a.host, port: a.port })),
      );
    }
    if (req.method !== "POST") return sendText(res, 405);
    const raw = (await readBody(req)).toString("utf8");
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    const m = /^\/sim\/agents\/(\d+)\/(kill|restart|partition|heal|kill-executor)$/.exec(path);
    if (m) {
      const a = handles[Number(m[1])];
      if (!a) return sendText(res, 404, "no such agent");
      if (m[2] === "kill" || m[2] === "restart") {
        try {
          await (m[2] === "kill" ? a.kill() : a.restart());
        } catch (err) {
          if (err instanceof SharedHostProcess) return sendText(res, 409, err.message);
          throw err;
        }
      } else if (m[2] === "partition") await a.partition();
      else if (m[2] === "heal") await a.heal();
      else {
        const ok = await a.killExecutor(String(body.framework_id), String(body.executor_id));
        return sendText(res, ok ? 200 : 404);
      }
      return sendText(res, 200);
    }
    if (path === "/sim/master/failover") {
      const mode = body.mode === "unavailable" ? "unavailable" : "redirect";
      const next = await cluster.failoverMaster(mode);
      return sendJson(res, 200, { master: next.url });
    }
    if (path === "/sim/status-updates") {
      if (typeof body.drop === "number") cluster.dropStatusUpdates(body.drop);
      if (typeof body.delay_ms === "number") cluster.delayStatusUpdates(body.delay_ms);
      return sendText(res, 200);
    }
    return sendText(res, 404);
  }

  return cluster;
}

/** Polls `cond` until true or the deadline passes. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
