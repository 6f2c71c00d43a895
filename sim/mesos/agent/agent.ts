// A Mesos-compatible test agent: registers with the leading master, runs tasks under the
// built-in command executor or custom executors (real child processes), relays status
// updates reliably, and checkpoints so a restarted agent recovers its executors.
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { AddressInfo, Socket } from "node:net";
import type {
  AgentInfo,
  Attribute,
  DomainInfo,
  ExecutorInfo,
  FrameworkInfo,
  MasterInfo,
  Resource,
  TaskInfo,
  TaskStatus,
} from "../../../src/mesos/types/index.js";
import { isTerminalTaskState } from "../../../src/mesos/types/index.js";
import { parseMesosJson, stringifyMesosJson } from "../../../src/mesos/json.js";
import { newStatusUuid } from "../../../src/mesos/bytes.js";
import { formatMesosDuration } from "../../../src/mesos/duration.js";
import { encodeRecord } from "../../../src/mesos/recordio.js";
import {
  Resources,
  normalize,
  parseResourceFlag,
  present,
  reservationRole,
} from "../common/resources.js";
import { readBody, sendText } from "../common/http.js";
import type {
  AckMessage,
  CheckpointResourcesMessage,
  KillTaskMessage,
  RegisterRequest,
  RegisterResponse,
  RunTaskMessage,
} from "../common/internal.js";
import { mergeAttributes, parseAttributeFlag, readAttributeDir } from "./attributes.js";
import { StatusUpdateManager } from "./status-updates.js";
import { taskDefaults } from "../common/defaults.js";
import { fetchUris } from "./fetcher.js";
import { alive, killGroup, spawnCommand, waitStatus } from "./processes.js";
import { Checkpointer, type ExecutorCheckpoint } from "./checkpoint.js";
import { handleExecutorApi } from "./executor-http.js";
import { ZkMembership } from "../common/zk.js";

export interface AgentOptions {
  /** Loopback address of this agent, e.g. 127.0.0.5. */
  host: string;
  port?: number;
  hostname?: string;
  /** Master URLs (http://ip:port); the agent follows redirects to the leader. */
  masters: string[];
  /** zk://host:port/path: follow the leading master registered there. */
  zk?: string;
  workDir: string;
  /** `cpus:4;mem:4096;disk:10240;ports:[31000-32000]` */
  resources?: string;
  /** `rack:r1;zone:a`; merged with files under `<workDir>/attributes/`. */
  attributes?: string;
  domain?: DomainInfo;
  fetcherCacheDir?: string;
  executorRegistrationTimeoutMs?: number;
  executorReregistrationTimeoutMs?: number;
  executorShutdownGracePeriodMs?: number;
  statusUpdateRetryMs?: number;
  recoveryTimeoutMs?: number;
  registrationBackoffMs?: number;
  /** How often to poll the liveness of executors adopted after a restart. */
  reapIntervalMs?: number;
  executorHeartbeatMs?: number;
  /**
   * Extra environment of this agent's executors, as if the agent process had it (executors
   * inherit the agent's environment). `${AGENT_IP}`, `${AGENT_WORK_DIR}` and `${NAME}` of
   * the agent's own environment are substituted, so one setting serves every agent.
   */
  executorEnv?: Record<string, string>;
  /**
   * Executor environment set after the executor's own CommandInfo environment, so no
   * framework can change it (substituted like executorEnv): the development cluster's
   * promise that executors run on an emulated host, not the real machine.
   */
  enforcedExecutorEnv?: Record<string, string>;
  /**
   * Many-agents mode: run custom executors inside the agent process instead of spawning
   * their command. The module (a path) exports `startExecutor(env)` (InProcessExecutorModule);
   * it gets the environment the process would have had and speaks the same executor HTTP
   * API. Such executors die with their agent (no kill/restart of the agent alone).
   */
  inProcessExecutorModule?: string;
  log?: (line: string) => void;
}

/** An executor run inside the agent process (see AgentOptions.inProcessExecutorModule). */
export interface InProcessExecutor {
  /** Resolves with the exit code once the executor is finished. */
  exited: Promise<number>;
  /** Stops it at once, like SIGKILL: no more updates, running steps abandoned. */
  kill(): void;
}

export interface InProcessExecutorModule {
  startExecutor(env: Record<string, string>): InProcessExecutor;
}

export type TaskPhase = "queued" | "delivered";

export interface AgentTask {
  info: TaskInfo;
  state: TaskStatus["state"];
  phase: TaskPhase;
  killRequested: boolean;
  group?: string;
}

export interface Executor {
  frameworkId: string;
  info: ExecutorInfo;
  kind: "custom" | "command" | "default";
  containerId: string;
  sandbox: string;
  pid?: number;
  /** Set instead of pid for an executor run inside the agent process. */
  inProcess?: InProcessExecutor;
  state: "launching" | "registering" | "running" | "terminating" | "terminated";
  stream?: ServerResponse;
  tasks: Map<string, AgentTask>;
  /** Queued launches, in order (a group is delivered as one LAUNCH_GROUP). */
  queue: { group?: TaskInfo[]; task?: TaskInfo }[];
  timers: NodeJS.Timeout[];
  /** Command tasks: the process of each task. */
  commandPids: Map<string, number>;
  shutdownRequested: boolean;
  registrationTimedOut?: boolean;
  heartbeat?: NodeJS.Timeout;
}

export interface AgentFramework {
  info: FrameworkInfo;
  executors: Map<string, Executor>;
}

const DEFAULT_RESOURCES = "cpus:4;mem:4096;disk:10240;ports:[31000-32000]";

export class Agent {
  readonly opts: AgentOptions;
  id: string | undefined;
  port = 0;
  masterUrl: string | undefined;
  masterId: string | undefined;
  registered = false;
  partitioned = false;
  /** True while waiting for executors to re-subscribe after a restart. */
  recovering = false;
  readonly frameworks = new Map<string, AgentFramework>();
  total: Resources;
  attributes: Attribute[];
  readonly updates: StatusUpdateManager;
  readonly checkpoints: Checkpointer;
  private server: Server;
  private sockets = new Set<Socket>();
  private held: ServerResponse[] = [];
  private lastPing = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private registering = false;
  private stopped = false;
  private pingInterval = 15_000;
  private pingTimeout = 15_000;
  private maxPings = 5;
  private reaper: NodeJS.Timeout | undefined;
  private zk: ZkMembership | undefined;

  constructor(opts: AgentOptions) {
    this.opts = opts;
    mkdirSync(opts.workDir, { recursive: true });
    this.checkpoints = new Checkpointer(opts.workDir);
    this.total = new Resources(parseResourceFlag(opts.resources ?? DEFAULT_RESOURCES));
    this.attributes = mergeAttributes(
      parseAttributeFlag(opts.attributes ?? ""),
      readAttributeDir(join(opts.workDir, "attributes")),
    );
    const retry = opts.statusUpdateRetryMs ?? 10_000;
    this.updates = new StatusUpdateManager({
      retryMs: retry,
      maxRetryMs: Math.max(retry, 600_000),
      forward: (fid, status) => this.forwardUpdate(fid, status),
      changed: (fid, tid) => this.checkpointTask(fid, tid),
      acknowledged: (fid, status) => this.onAcknowledged(fid, status),
    });
    this.server = createServer((req, res) => this.route(req, res));
    // Longer than the master's ping interval, so health checks reuse their connection.
    this.server.keepAliveTimeout = 65_000;
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  log(line: string): void {
    this.opts.log?.(`agent ${this.opts.host}: ${line}`);
  }

  get endpoint(): string {
    return `${this.opts.host}:${this.port}`;
  }

  get hostname(): string {
    return this.opts.hostname ?? this.opts.host;
  }

  /** Recovers checkpointed state, listens, and registers with the master. */
  async start(): Promise<void> {
    // Loaded before the agent registers, as an executor binary would already be on the host.
    if (this.opts.inProcessExecutorModule) await this.inProcessModule();
    const meta = this.checkpoints.readAgent();
    if (meta) {
      this.id = meta.agent_id;
      this.port = meta.port;
      if (meta.resources) this.total = Resources.of(meta.resources);
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(meta?.port ?? this.opts.port ?? 0, this.opts.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.checkpointAgent();
    this.recover();
    if (this.opts.zk) {
      this.zk = new ZkMembership(this.opts.zk, undefined, {
        onLeader: (info) => this.onLeader(info),
        log: (l) => this.log(l),
      });
      await this.zk.start();
    }
    void this.register();
    this.watchdog = setInterval(() => this.checkMaster(), 1000);
    this.watchdog.unref();
  }

  /** Stops the agent process's work. Executors keep running unless `killExecutors`. */
  async stop(killExecutors = false): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.reaper) clearInterval(this.reaper);
    await this.zk?.stop();
    this.updates.stop();
    for (const fw of this.frameworks.values()) {
      for (const e of fw.executors.values()) {
        for (const t of e.timers) clearTimeout(t);
        if (e.heartbeat) clearInterval(e.heartbeat);
        if (killExecutors) this.killProcesses(e);
        e.stream?.end();
      }
    }
    for (const r of this.held) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  agentInfo(): AgentInfo {
    return {
      hostname: this.hostname,
      port: this.port,
      ...(this.id ? { id: { value: this.id } } : {}),
      resources: this.total.list.map((r) => present(r, true)),
      attributes: this.attributes,
      ...(this.opts.domain ? { domain: this.opts.domain } : {}),
    };
  }

  /** ZooKeeper names a (new) leader: register with it. */
  private onLeader(info: MasterInfo | undefined): void {
    if (!info) return;
    const url = `http://${info.address?.ip ?? info.hostname}:${info.address?.port ?? info.port}`;
    this.opts.masters = [url];
    if (url === this.masterUrl && this.registered) return;
    this.registered = false;
    this.masterUrl = undefined;
    this.updates.setOnline(false);
    void this.register();
  }

  // ---- fault injection -------------------------------------------------------------

  /** Silently stops answering the master and stops sending to it. */
  partition(): void {
    this.partitioned = true;
    this.updates.setOnline(false);
  }

  heal(): void {
    this.partitioned = false;
    for (const r of this.held.splice(0)) r.destroy();
    this.registered = false;
    void this.register();
  }

  // ---- master link ------------------------------------------------------------------

  private checkMaster(): void {
    if (this.stopped || this.partitioned || !this.registered) return;
    const limit = (this.pingInterval + this.pingTimeout) * (this.maxPings + 1);
    if (Date.now() - this.lastPing > limit) {
      this.log("no ping from the master: re-detecting");
      this.registered = false;
      this.updates.setOnline(false);
      void this.register();
    }
  }

  /** Finds the leader (following 307s) and (re-)registers with it. */
  async register(): Promise<void> {
    if (this.registering || this.stopped) return;
    this.registering = true;
    try {
      let attempt = 0;
      while (!this.stopped && !this.partitioned) {
        const candidates = this.masterUrl
          ? [this.masterUrl, ...this.opts.masters.filter((u) => u !== this.masterUrl)]
          : this.opts.masters;
        for (const url of candidates) {
          const reply = await this.tryRegister(url);
          if (reply) return;
          if (this.stopped || this.partitioned) return;
        }
        attempt++;
        const backoff = this.opts.registrationBackoffMs ?? 1000;
        await new Promise((r) => setTimeout(r, Math.min(backoff * attempt, backoff * 10)));
      }
    } finally {
      this.registering = false;
    }
  }

  private async tryRegister(url: string, hops = 0): Promise<boolean> {
    const body: RegisterRequest = {
      agent_info: this.agentInfo(),
      endpoint: this.endpoint,
      resources: this.total.list.map((r) => present(r, true)),
      frameworks: [...this.frameworks.values()].map((f) => f.info),
      executors: [],
      tasks: [],
    };
    for (const [fid, fw] of this.frameworks) {
      for (const e of fw.executors.values()) {
        if (e.state === "terminated") continue;
        if (e.kind === "custom" || e.kind === "default") {
          body.executors.push({ framework_id: fid, executor_info: e.info });
        }
        for (const t of e.tasks.values()) {
          const latest = this.latestStatus(fid, t);
          body.tasks.push({
            framework_id: fid,
            task: t.info,
            ...(e.kind !== "command" ? { executor_id: e.info.executor_id.value } : {}),
            state: t.state,
            ...(latest ? { status: latest } : {}),
          });
        }
      }
    }
    let res: { status: number; body: string; location?: string };
    try {
      res = await httpPost(url, "/internal/agent/register", stringifyMesosJson(body), 30_000);
    } catch {
      return false;
    }
    // With ZooKeeper the znode names the leader: do not follow a redirect from a master
    // that has not yet noticed the change.
    if (res.status === 307 && res.location && hops < 2 && !this.opts.zk) {
      const target = res.location.startsWith("//") ? `http:${res.location}` : res.location;
      const u = new URL(target);
      return this.tryRegister(`${u.protocol}//${u.host}`, hops + 1);
    }
    if (res.status !== 200) return false;
    const reply = parseMesosJson(res.body) as RegisterResponse;
    this.id = reply.agent_id;
    this.masterUrl = url;
    this.masterId = reply.master_id;
    this.pingInterval = reply.ping_interval_ms;
    this.pingTimeout = reply.ping_timeout_ms;
    this.maxPings = reply.max_ping_timeouts;
    this.lastPing = Date.now();
    this.registered = true;
    this.checkpointAgent();
    this.log(`registered as ${this.id} with ${url}`);
    for (const fid of reply.kill_frameworks ?? []) this.shutdownFramework(fid);
    this.updates.setOnline(true);
    return true;
  }

  private toMaster(op: string, body: unknown): void {
    if (!this.masterUrl || this.partitioned) return;
    httpPost(this.masterUrl, `/internal/agent/${op}`, stringifyMesosJson(body), 5000).then(
      (res) => {
        if (res.status === 409 || res.status === 307 || res.status === 503) {
          if (this.registered) {
            this.registered = false;
            this.updates.setOnline(false);
            void this.register();
          }
        }
      },
      () => undefined,
    );
  }

  private forwardUpdate(frameworkId: string, status: TaskStatus): void {
    if (!this.registered || this.partitioned) return;
    this.toMaster("status", { agent_id: this.id, framework_id: frameworkId, status });
  }

  // ---- HTTP -------------------------------------------------------------------------

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    const run = async () => {
      if (path === "/api/v1/executor" || path === "/slave(1)/api/v1/executor") {
        return handleExecutorApi(this, req, res);
      }
      if (path === "/internal/ping") {
        if (this.partitioned) return this.hold(req, res);
        this.lastPing = Date.now();
        return sendText(res, 200, "pong");
      }
      if (path.startsWith("/internal/master/")) {
        if (this.partitioned) return this.hold(req, res);
        const body = parseMesosJson((await readBody(req)).toString("utf8"));
        sendText(res, 202);
        return this.onMasterMessage(path.slice("/internal/master/".length), body);
      }
      if (path === "/state" || path === "/slave(1)/state") {
        return sendText(res, 200, stringifyMesosJson(this.state()), {
          "Content-Type": "application/json",
        });
      }
      if (path === "/health") return sendText(res, 200);
      sendText(res, 404);
    };
    run().catch((err: unknown) => {
      this.log(`request ${path} failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendText(res, 500, "Internal error");
    });
  }

  /** A partitioned agent neither answers nor refuses: the request just hangs. */
  private hold(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    this.held.push(res);
  }

  private onMasterMessage(op: string, body: unknown): void {
    switch (op) {
      case "run_task":
        return void this.runTask(body as RunTaskMessage);
      case "kill_task":
        return this.killTask(body as KillTaskMessage);
      case "shutdown_executor": {
        const b = body as { framework_id: string; executor_id: string };
        const e = this.frameworks.get(b.framework_id)?.executors.get(b.executor_id);
        if (e) this.shutdownExecutor(e);
        return;
      }
      case "shutdown_framework":
        return this.shutdownFramework((body as { framework_id: string }).framework_id);
      case "ack": {
        const a = body as AckMessage;
        this.updates.ack(a.framework_id, a.task_id, a.uuid);
        return;
      }
      case "message": {
        const b = body as { framework_id: string; executor_id: string; data: string };
        const e = this.frameworks.get(b.framework_id)?.executors.get(b.executor_id);
        if (e) this.sendToExecutor(e, { type: "MESSAGE", message: { data: b.data } });
        return;
      }
      case "checkpoint_resources":
        return this.checkpointResources(body as CheckpointResourcesMessage);
      case "update_framework": {
        const fi = (body as { framework_info: FrameworkInfo }).framework_info;
        const fw = this.frameworks.get(fi.id!.value);
        if (fw) {
          fw.info = fi;
          this.checkpoints.writeFramework(fi);
        }
        // The framework (re)subscribed: its pending updates go out now (Slave::updateFramework).
        this.updates.flush(fi.id!.value);
        return;
      }
      case "shutdown":
        // Maintenance DOWN: kill everything; the agent stays up but unregistered.
        for (const fid of [...this.frameworks.keys()]) this.shutdownFramework(fid);
        this.registered = false;
        this.updates.setOnline(false);
        setTimeout(() => void this.register(), this.opts.registrationBackoffMs ?? 1000).unref();
        return;
      default:
        this.log(`unknown master message ${op}`);
    }
  }

  // ---- resources and volumes ----------------------------------------------------------

  private checkpointResources(msg: CheckpointResourcesMessage): void {
    this.total = Resources.of(msg.resources);
    for (const v of msg.destroyed_volumes ?? []) {
      rmSync(this.volumePath(v.role, v.id), { recursive: true, force: true });
    }
    for (const r of this.total.list) {
      if (r.disk?.persistence) {
        mkdirSync(this.volumePath(reservationRole(r), r.disk.persistence.id), { recursive: true });
      }
    }
    this.checkpointAgent();
  }

  volumePath(role: string, id: string): string {
    return join(this.opts.workDir, "volumes", "roles", role.replaceAll("/", "#"), id);
  }

  /** Links persistent volumes used by `resources` into the sandbox at container_path. */
  private mountVolumes(resources: Resource[] | undefined, sandbox: string): void {
    for (const r of resources ?? []) {
      const norm = normalize(r);
      const p = norm.disk?.persistence;
      const vol = norm.disk?.volume;
      if (!p || !vol) continue;
      const target = this.volumePath(reservationRole(norm), p.id);
      mkdirSync(target, { recursive: true });
      const link = join(sandbox, vol.container_path);
      if (!existsSync(link)) {
        mkdirSync(join(link, ".."), { recursive: true });
        symlinkSync(target, link);
      }
    }
  }

  // ---- launching ----------------------------------------------------------------------

  private framework(info: FrameworkInfo): AgentFramework {
    const id = info.id!.value;
    let fw = this.frameworks.get(id);
    if (!fw) {
      fw = { info, executors: new Map() };
      this.frameworks.set(id, fw);
    } else fw.info = info;
    this.checkpoints.writeFramework(info);
    return fw;
  }

  private async runTask(msg: RunTaskMessage): Promise<void> {
    const fw = this.framework(msg.framework_info);
    const fid = msg.framework_info.id!.value;
    const tasks = msg.task_group ? msg.task_group.tasks : msg.task ? [msg.task] : [];
    const kind: Executor["kind"] = msg.executor
      ? msg.executor.type === "DEFAULT"
        ? "default"
        : "custom"
      : "command";
    const executorInfo: ExecutorInfo = msg.executor ?? {
      executor_id: { value: tasks[0]!.task_id.value },
      framework_id: { value: fid },
      type: "CUSTOM",
      name: `Command Executor (Task: ${tasks[0]!.task_id.value})`,
      command: tasks[0]!.command ?? {},
    };
    const eid = executorInfo.executor_id.value;
    let e = fw.executors.get(eid);
    if (e && e.state === "terminated") {
      fw.executors.delete(eid);
      e = undefined;
    }
    const fresh = !e;
    if (!e) {
      const containerId = randomUUID();
      const sandbox = join(
        this.opts.workDir,
        "slaves",
        this.id ?? "unknown",
        "frameworks",
        fid,
        "executors",
        eid,
        "runs",
        containerId,
      );
      mkdirSync(sandbox, { recursive: true });
      e = {
        frameworkId: fid,
        info: executorInfo,
        kind,
        containerId,
        sandbox,
        state: "launching",
        tasks: new Map(),
        queue: [],
        timers: [],
        commandPids: new Map(),
        shutdownRequested: false,
      };
      fw.executors.set(eid, e);
    }
    const group = msg.task_group ? randomUUID() : undefined;
    for (const t of tasks) {
      e.tasks.set(t.task_id.value, {
        info: t,
        state: "TASK_STAGING",
        phase: "queued",
        killRequested: false,
        ...(group ? { group } : {}),
      });
    }
    e.queue.push(msg.task_group ? { group: tasks } : { task: tasks[0]! });
    this.checkpointExecutor(e);
    if (e.state === "terminating") {
      for (const t of tasks)
        this.agentUpdate(
          e,
          t.task_id.value,
          "TASK_LOST",
          "REASON_EXECUTOR_TERMINATED",
          "Executor terminating",
        );
      return;
    }
    if (kind !== "custom") {
      // Built-in executors run in the agent; they "subscribe" at once.
      e.state = "running";
      for (const t of tasks) this.mountVolumes(t.resources, e.sandbox);
      await this.drainBuiltin(e);
      return;
    }
    if (!fresh) {
      for (const t of tasks) this.mountVolumes(t.resources, e.sandbox);
      if (e.state === "running") this.deliverQueued(e);
      return;
    }
    await this.launchCustom(e, fw.info, tasks);
  }

  private async launchCustom(e: Executor, fi: FrameworkInfo, tasks: TaskInfo[]): Promise<void> {
    try {
      await fetchUris(e.info.command?.uris ?? [], e.sandbox, this.cacheDir());
      this.mountVolumes(e.info.resources, e.sandbox);
      for (const t of tasks) this.mountVolumes(t.resources, e.sandbox);
    } catch (err) {
      this.log(`fetch for executor ${e.info.executor_id.value} failed: ${(err as Error).message}`);
      e.state = "terminated";
      for (const t of e.tasks.values()) {
        this.agentUpdate(
          e,
          t.info.task_id.value,
          "TASK_FAILED",
          "REASON_CONTAINER_LAUNCH_FAILED",
          `Failed to fetch URIs: ${(err as Error).message}`,
        );
      }
      this.toMaster("executor_exited", {
        agent_id: this.id,
        framework_id: e.frameworkId,
        executor_id: e.info.executor_id.value,
        status: waitStatus(1, null),
      });
      return;
    }
    if (e.state === "terminated" || this.stopped) return;
    if (this.opts.inProcessExecutorModule) {
      await this.launchInProcess(e, fi);
      return;
    }
    const child = spawnCommand(e.info.command ?? {}, e.sandbox, this.executorEnv(e, fi));
    e.state = "registering";
    if (child.pid === undefined) {
      child.once("error", (err) => this.log(`executor spawn failed: ${err.message}`));
      this.onExecutorExit(e, waitStatus(127, null));
      return;
    }
    e.pid = child.pid;
    child.on("error", () => undefined);
    child.on("exit", (code, signal) => this.onExecutorExit(e, waitStatus(code, signal)));
    this.checkpointExecutor(e);
    this.armRegistrationTimeout(e);
  }

  /** An executor that has not subscribed in time is destroyed (process or in-process). */
  private armRegistrationTimeout(e: Executor): void {
    const timeout = setTimeout(() => {
      if (e.state !== "registering") return;
      this.log(`executor ${e.info.executor_id.value} did not subscribe in time`);
      e.registrationTimedOut = true;
      this.killProcesses(e);
    }, this.opts.executorRegistrationTimeoutMs ?? 60_000);
    timeout.unref();
    e.timers.push(timeout);
  }

  private inProcessModule(): Promise<InProcessExecutorModule> {
    return import(
      pathToFileURL(this.opts.inProcessExecutorModule!).href
    ) as Promise<InProcessExecutorModule>;
  }

  private async launchInProcess(e: Executor, fi: FrameworkInfo): Promise<void> {
    const mod = await this.inProcessModule();
    if (e.state === "terminated" || this.stopped) return;
    const h = mod.startExecutor(this.executorEnv(e, fi));
    e.inProcess = h;
    e.state = "registering";
    void h.exited.then(
      (code) => this.onExecutorExit(e, waitStatus(code, null)),
      () => this.onExecutorExit(e, waitStatus(1, null)),
    );
    this.armRegistrationTimeout(e);
  }

  private cacheDir(): string {
    return this.opts.fetcherCacheDir ?? join(this.opts.workDir, "fetch-cache");
  }

  executorEnv(e: Executor, fi: FrameworkInfo): Record<string, string> {
    const grace = e.info.shutdown_grace_period
      ? Number(e.info.shutdown_grace_period.nanoseconds) / 1e6
      : (this.opts.executorShutdownGracePeriodMs ?? 5000);
    const vars: Record<string, string> = {
      ...(process.env as Record<string, string>),
      AGENT_IP: this.opts.host,
      AGENT_WORK_DIR: this.opts.workDir,
    };
    const expand = (given: Record<string, string> | undefined) =>
      Object.fromEntries(
        Object.entries(given ?? {}).map(([k, v]) => [
          k,
          v.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => vars[name] ?? ""),
        ]),
      );
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...expand(this.opts.executorEnv),
      MESOS_FRAMEWORK_ID: e.frameworkId,
      MESOS_EXECUTOR_ID: e.info.executor_id.value,
      MESOS_AGENT_ENDPOINT: this.endpoint,
      MESOS_SLAVE_ID: this.id ?? "",
      MESOS_SLAVE_PID: `slave(1)@${this.endpoint}`,
      MESOS_DIRECTORY: e.sandbox,
      MESOS_SANDBOX: e.sandbox,
      MESOS_CHECKPOINT: fi.checkpoint ? "1" : "0",
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: formatMesosDuration(grace),
      MESOS_HTTP_COMMAND_EXECUTOR: "0",
      LIBPROCESS_PORT: "0",
      LIBPROCESS_IP: this.opts.host,
    };
    if (fi.checkpoint) {
      env.MESOS_RECOVERY_TIMEOUT = formatMesosDuration(this.opts.recoveryTimeoutMs ?? 900_000);
      env.MESOS_SUBSCRIPTION_BACKOFF_MAX = formatMesosDuration(
        this.opts.executorReregistrationTimeoutMs ?? 2000,
      );
    }
    for (const v of e.info.command?.environment?.variables ?? []) {
      if ((v.type ?? "VALUE") === "VALUE" && v.value !== undefined) env[v.name] = v.value;
    }
    return Object.assign(env, expand(this.opts.enforcedExecutorEnv));
  }

  /** Executor SUBSCRIBE accepted: send queued launches. */
  deliverQueued(e: Executor): void {
    while (e.queue.length > 0) {
      const item = e.queue.shift()!;
      const list = item.group ?? (item.task ? [item.task] : []);
      const live = list.filter((t) => e.tasks.get(t.task_id.value)?.phase === "queued");
      if (live.length === 0) continue;
      for (const t of live) e.tasks.get(t.task_id.value)!.phase = "delivered";
      if (item.group) {
        this.sendToExecutor(e, {
          type: "LAUNCH_GROUP",
          launch_group: { task_group: { tasks: live.map(taskDefaults) } },
        });
      } else {
        this.sendToExecutor(e, { type: "LAUNCH", launch: { task: taskDefaults(live[0]!) } });
      }
    }
    this.checkpointExecutor(e);
  }

  sendToExecutor(e: Executor, event: object): void {
    if (e.stream && !e.stream.writableEnded)
      e.stream.write(encodeRecord(stringifyMesosJson(event)));
  }

  // ---- built-in command / default executor ------------------------------------------

  private async drainBuiltin(e: Executor): Promise<void> {
    const fi = this.frameworks.get(e.frameworkId)!.info;
    while (e.queue.length > 0) {
      const item = e.queue.shift()!;
      for (const t of item.group ?? (item.task ? [item.task] : [])) {
        const at = e.tasks.get(t.task_id.value);
        if (!at || at.phase !== "queued") continue;
        at.phase = "delivered";
        await this.runCommandTask(e, fi, at);
      }
    }
  }

  private async runCommandTask(e: Executor, fi: FrameworkInfo, t: AgentTask): Promise<void> {
    const taskId = t.info.task_id.value;
    const cmd = t.info.command ?? {};
    try {
      await fetchUris(cmd.uris ?? [], e.sandbox, this.cacheDir());
    } catch (err) {
      this.executorUpdate(
        e,
        taskId,
        "TASK_FAILED",
        `Failed to fetch URIs: ${(err as Error).message}`,
      );
      return;
    }
    if (t.killRequested)
      return this.executorUpdate(e, taskId, "TASK_KILLED", "Killed before start");
    const env = this.executorEnv(e, fi);
    for (const v of cmd.environment?.variables ?? []) {
      if ((v.type ?? "VALUE") === "VALUE" && v.value !== undefined) env[v.name] = v.value;
    }
    const child = spawnCommand(cmd, e.sandbox, env, this.exitFile(e, taskId));
    if (child.pid === undefined) {
      child.once("error", () => undefined);
      this.executorUpdate(e, taskId, "TASK_FAILED", "Failed to launch command");
      return;
    }
    e.commandPids.set(taskId, child.pid);
    e.pid ??= child.pid;
    this.checkpointExecutor(e);
    this.executorUpdate(e, taskId, "TASK_STARTING");
    this.executorUpdate(e, taskId, "TASK_RUNNING");
    child.on("exit", (code, signal) => this.onCommandExit(e, taskId, code, signal));
  }

  private exitFile(e: Executor, taskId: string): string {
    return join(e.sandbox, `.exit-${encodeURIComponent(taskId)}`);
  }

  /** A command task adopted after an agent restart ended: its code is in the exit file. */
  private onAdoptedCommandExit(e: Executor, taskId: string): void {
    let code: number | null = null;
    try {
      code = Number(readFileSync(this.exitFile(e, taskId), "utf8").trim());
    } catch {
      code = null;
    }
    this.onCommandExit(e, taskId, code, code === null ? "SIGKILL" : null);
  }

  private onCommandExit(
    e: Executor,
    taskId: string,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    e.commandPids.delete(taskId);
    const t = e.tasks.get(taskId);
    if (!t || isTerminalTaskState(t.state)) return;
    if (t.killRequested)
      this.executorUpdate(e, taskId, "TASK_KILLED", "Command terminated with signal");
    else if (code === 0)
      this.executorUpdate(e, taskId, "TASK_FINISHED", "Command exited with status 0");
    else {
      this.executorUpdate(
        e,
        taskId,
        "TASK_FAILED",
        signal ? `Command terminated with signal ${signal}` : `Command exited with status ${code}`,
      );
    }
    if ([...e.tasks.values()].every((x) => isTerminalTaskState(x.state))) {
      e.state = "terminated";
      this.checkpointExecutor(e);
    }
  }

  /** An update as the (built-in) executor would send it. */
  private executorUpdate(
    e: Executor,
    taskId: string,
    state: TaskStatus["state"],
    message?: string,
  ): void {
    this.receiveUpdate(e, {
      task_id: { value: taskId },
      state,
      source: "SOURCE_EXECUTOR",
      executor_id: e.info.executor_id,
      uuid: newStatusUuid(),
      timestamp: Date.now() / 1000,
      ...(message ? { message } : {}),
    });
  }

  /** An update the agent generates itself (SOURCE_AGENT, reliable). */
  agentUpdate(
    e: Executor,
    taskId: string,
    state: TaskStatus["state"],
    reason: string,
    message: string,
  ): void {
    this.receiveUpdate(e, {
      task_id: { value: taskId },
      state,
      source: "SOURCE_AGENT",
      reason,
      message,
      executor_id: e.info.executor_id,
      uuid: newStatusUuid(),
      timestamp: Date.now() / 1000,
    });
  }

  /** Stores an update from an executor (or the agent) and schedules its delivery. */
  receiveUpdate(e: Executor, status: TaskStatus): boolean {
    const taskId = status.task_id.value;
    const full: TaskStatus = {
      ...status,
      agent_id: { value: this.id ?? "" },
      executor_id: status.executor_id ?? e.info.executor_id,
      timestamp: status.timestamp ?? Date.now() / 1000,
    };
    const t = e.tasks.get(taskId);
    if (t && !(status.uuid && this.updates.seen(e.frameworkId, taskId, status.uuid))) {
      t.state = status.state;
      if (t.phase === "queued") t.phase = "delivered";
    }
    return this.updates.add(e.frameworkId, full);
  }

  private latestStatus(fid: string, t: AgentTask): TaskStatus | undefined {
    const pending = this.updates.pending(fid, t.info.task_id.value);
    return pending[pending.length - 1];
  }

  private onAcknowledged(fid: string, status: TaskStatus): void {
    if (!isTerminalTaskState(status.state)) return;
    // The terminal update is acknowledged: the task can be forgotten.
    const fw = this.frameworks.get(fid);
    if (![...(fw?.executors.values() ?? [])].some((e) => e.tasks.has(status.task_id.value))) {
      this.updates.forget(fid, status.task_id.value);
      return;
    }
    for (const e of fw?.executors.values() ?? []) {
      const t = e.tasks.get(status.task_id.value);
      if (!t) continue;
      e.tasks.delete(status.task_id.value);
      this.updates.forget(fid, status.task_id.value);
      if (e.state === "terminated" && e.tasks.size === 0) {
        fw!.executors.delete(e.info.executor_id.value);
        this.checkpoints.removeExecutor(fid, e.info.executor_id.value);
      } else this.checkpointExecutor(e);
    }
  }

  forwardMessage(e: Executor, data: string): void {
    this.toMaster("message", {
      agent_id: this.id,
      framework_id: e.frameworkId,
      executor_id: e.info.executor_id.value,
      data,
    });
  }

  /** Recovery ends early once every adopted executor is back. */
  executorResubscribed(): void {
    const waiting = [...this.frameworks.values()].some((f) =>
      [...f.executors.values()].some((e) => e.kind === "custom" && e.state === "registering"),
    );
    if (!waiting) this.recovering = false;
  }

  // ---- kill / shutdown ----------------------------------------------------------------

  private killTask(msg: KillTaskMessage): void {
    const fw = this.frameworks.get(msg.framework_id);
    for (const e of fw?.executors.values() ?? []) {
      const t = e.tasks.get(msg.task_id);
      if (!t) continue;
      t.killRequested = true;
      if (isTerminalTaskState(t.state)) return;
      if (t.phase === "queued") {
        // Never reached the executor: Mesos itself answers TASK_KILLED (whole group).
        const victims = t.group ? [...e.tasks.values()].filter((x) => x.group === t.group) : [t];
        for (const v of victims) {
          v.phase = "delivered";
          this.agentUpdate(
            e,
            v.info.task_id.value,
            "TASK_KILLED",
            "REASON_TASK_KILLED_DURING_LAUNCH",
            "Killed before delivery to the executor",
          );
        }
        return;
      }
      if (e.kind === "command" || e.kind === "default") {
        const pid = e.commandPids.get(msg.task_id);
        if (fw!.info.capabilities?.some((c) => c.type === "TASK_KILLING_STATE")) {
          this.executorUpdate(e, msg.task_id, "TASK_KILLING");
        }
        if (pid !== undefined) {
          killGroup(pid, "SIGTERM");
          const grace = msg.kill_policy?.grace_period
            ? Number(msg.kill_policy.grace_period.nanoseconds) / 1e6
            : 3000;
          const timer = setTimeout(() => killGroup(pid, "SIGKILL"), grace);
          timer.unref();
          e.timers.push(timer);
        }
        return;
      }
      this.sendToExecutor(e, {
        type: "KILL",
        kill: {
          task_id: { value: msg.task_id },
          ...(msg.kill_policy ? { kill_policy: msg.kill_policy } : {}),
        },
      });
      return;
    }
    // No executor here has it (its launch never arrived): as Mesos's agent, report it
    // dropped, or lost to a framework that is not partition-aware. Kills for a framework
    // the agent does not know are ignored.
    if (!fw) return;
    const partitionAware = fw.info.capabilities?.some((c) => c.type === "PARTITION_AWARE");
    this.updates.add(msg.framework_id, {
      task_id: { value: msg.task_id },
      state: partitionAware ? "TASK_DROPPED" : "TASK_LOST",
      source: "SOURCE_AGENT",
      reason: "REASON_EXECUTOR_TERMINATED",
      message: "Cannot find executor",
      agent_id: { value: this.id ?? "" },
      uuid: newStatusUuid(),
      timestamp: Date.now() / 1000,
    });
  }

  shutdownExecutor(e: Executor): void {
    if (e.state === "terminated" || e.state === "terminating") return;
    e.shutdownRequested = true;
    e.state = "terminating";
    if (e.kind === "custom") this.sendToExecutor(e, { type: "SHUTDOWN" });
    else for (const pid of e.commandPids.values()) killGroup(pid, "SIGTERM");
    const grace = e.info.shutdown_grace_period
      ? Number(e.info.shutdown_grace_period.nanoseconds) / 1e6
      : (this.opts.executorShutdownGracePeriodMs ?? 5000);
    const timer = setTimeout(() => this.killProcesses(e), grace);
    timer.unref();
    e.timers.push(timer);
    if (e.kind === "custom" && e.pid === undefined)
      this.onExecutorExit(e, waitStatus(0, "SIGKILL"));
  }

  private shutdownFramework(fid: string): void {
    const fw = this.frameworks.get(fid);
    this.updates.dropFramework(fid);
    if (!fw) return;
    for (const e of fw.executors.values()) {
      this.shutdownExecutor(e);
    }
    this.frameworks.delete(fid);
    this.checkpoints.removeFramework(fid);
  }

  killProcesses(e: Executor): void {
    e.inProcess?.kill();
    if (e.pid !== undefined) killGroup(e.pid, "SIGKILL");
    for (const pid of e.commandPids.values()) killGroup(pid, "SIGKILL");
  }

  /** Kills an executor's process group (fault injection). */
  killExecutor(frameworkId: string, executorId: string): boolean {
    const e = this.frameworks.get(frameworkId)?.executors.get(executorId);
    if (e?.inProcess && e.state !== "terminated") {
      e.inProcess.kill();
      return true;
    }
    if (!e || e.pid === undefined) return false;
    return killGroup(e.pid, "SIGKILL");
  }

  onExecutorExit(e: Executor, status: number): void {
    if (e.state === "terminated") return;
    e.state = "terminated";
    for (const t of e.timers) clearTimeout(t);
    if (e.heartbeat) clearInterval(e.heartbeat);
    e.stream?.end();
    e.stream = undefined;
    const reason = e.registrationTimedOut
      ? "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
      : "REASON_EXECUTOR_TERMINATED";
    for (const t of e.tasks.values()) {
      if (isTerminalTaskState(t.state)) continue;
      const state = t.killRequested ? "TASK_KILLED" : "TASK_FAILED";
      this.agentUpdate(e, t.info.task_id.value, state, reason, "Executor terminated");
    }
    this.checkpointExecutor(e);
    if (this.frameworks.get(e.frameworkId)) {
      this.toMaster("executor_exited", {
        agent_id: this.id,
        framework_id: e.frameworkId,
        executor_id: e.info.executor_id.value,
        status,
      });
    }
  }

  // ---- checkpointing and recovery -----------------------------------------------------

  private checkpointAgent(): void {
    this.checkpoints.writeAgent({
      agent_id: this.id,
      port: this.port,
      resources: this.total.list.map((r) => present(r, true)),
    });
  }

  private checkpointTask(fid: string, taskId: string): void {
    const fw = this.frameworks.get(fid);
    for (const e of fw?.executors.values() ?? []) {
      if (e.tasks.has(taskId)) this.checkpointExecutor(e);
    }
  }

  /** Executors whose checkpoint is due at the end of this turn. */
  private readonly dirty = new Set<Executor>();

  /**
   * Checkpoints the executor at the end of the current turn: one handler often changes it
   * several times (an acknowledgement drops the update, then the task), and each write is
   * the whole executor. The write is the state the turn ended with; an answer sent within the
   * turn can precede it by microseconds, which a kill in between turns into a lost message
   * (the executor resends its unacknowledged updates, and reconciliation finds lost tasks).
   */
  checkpointExecutor(e: Executor): void {
    if (this.dirty.size === 0) queueMicrotask(() => this.flushCheckpoints());
    this.dirty.add(e);
  }

  private flushCheckpoints(): void {
    const due = [...this.dirty];
    this.dirty.clear();
    for (const e of due) {
      // Forgotten meanwhile (its checkpoint removed): not written back.
      if (this.frameworks.get(e.frameworkId)?.executors.get(e.info.executor_id.value) !== e)
        continue;
      this.writeExecutorCheckpoint(e);
    }
  }

  private writeExecutorCheckpoint(e: Executor): void {
    const fw = this.frameworks.get(e.frameworkId);
    if (!fw) return;
    const cp: ExecutorCheckpoint = {
      info: e.info,
      kind: e.kind,
      container_id: e.containerId,
      sandbox: e.sandbox,
      state: e.state,
      checkpoint: fw.info.checkpoint ?? false,
      ...(e.pid !== undefined ? { pid: e.pid } : {}),
      command_pids: Object.fromEntries(e.commandPids),
      tasks: [...e.tasks.values()].map((t) => ({
        info: t.info,
        state: t.state,
        phase: t.phase,
        ...(t.group ? { group: t.group } : {}),
        updates: this.updates.pending(e.frameworkId, t.info.task_id.value),
      })),
      queue: e.queue,
    };
    this.checkpoints.writeExecutor(e.frameworkId, cp);
  }

  /** Agent restart: adopt live executors of checkpointing frameworks, kill the rest. */
  private recover(): void {
    const state = this.checkpoints.readAll();
    const adopted: Executor[] = [];
    const commands: Executor[] = [];
    for (const { framework, executors } of state) {
      const fid = framework.id!.value;
      if (!framework.checkpoint) {
        for (const cp of executors) {
          if (cp.pid !== undefined && alive(cp.pid)) killGroup(cp.pid, "SIGKILL");
          for (const pid of Object.values(cp.command_pids ?? {}))
            if (alive(pid)) killGroup(pid, "SIGKILL");
        }
        this.checkpoints.removeFramework(fid);
        continue;
      }
      const fw: AgentFramework = { info: framework, executors: new Map() };
      this.frameworks.set(fid, fw);
      for (const cp of executors) {
        const e: Executor = {
          frameworkId: fid,
          info: cp.info,
          kind: cp.kind,
          containerId: cp.container_id,
          sandbox: cp.sandbox,
          state: cp.state === "terminated" ? "terminated" : "registering",
          tasks: new Map(),
          queue: cp.queue ?? [],
          timers: [],
          commandPids: new Map(Object.entries(cp.command_pids ?? {})),
          shutdownRequested: false,
          ...(cp.pid !== undefined ? { pid: cp.pid } : {}),
        };
        for (const t of cp.tasks) {
          e.tasks.set(t.info.task_id.value, {
            info: t.info,
            state: t.state,
            phase: t.phase,
            killRequested: false,
            ...(t.group ? { group: t.group } : {}),
          });
          this.updates.restore(fid, t.info.task_id.value, t.updates ?? []);
        }
        fw.executors.set(cp.info.executor_id.value, e);
        if (e.state === "terminated") continue;
        if (e.kind !== "custom") {
          // Built-in executors: their command processes outlive the agent; watch them.
          e.state = "running";
          commands.push(e);
          continue;
        }
        const live = e.pid !== undefined && alive(e.pid);
        if (!live) {
          this.onExecutorExit(e, waitStatus(0, "SIGKILL"));
          continue;
        }
        adopted.push(e);
      }
    }
    if (adopted.length === 0 && commands.length === 0) return;
    // Adopted processes are not our children: poll their liveness.
    this.reaper = setInterval(() => {
      for (const e of adopted) {
        if (e.state !== "terminated" && e.pid !== undefined && !alive(e.pid)) {
          this.onExecutorExit(e, waitStatus(0, "SIGKILL"));
        }
      }
      for (const e of commands) {
        for (const [taskId, pid] of [...e.commandPids]) {
          if (!alive(pid)) this.onAdoptedCommandExit(e, taskId);
        }
      }
    }, this.opts.reapIntervalMs ?? 200);
    this.reaper.unref();
    if (adopted.length === 0) return;
    this.recovering = true;
    const timer = setTimeout(() => {
      this.recovering = false;
      for (const e of adopted) {
        if (e.state !== "registering") continue;
        this.log(`executor ${e.info.executor_id.value} did not re-subscribe: killing it`);
        const pa = this.frameworks
          .get(e.frameworkId)
          ?.info.capabilities?.some((c) => c.type === "PARTITION_AWARE");
        for (const t of e.tasks.values()) {
          if (isTerminalTaskState(t.state)) continue;
          this.agentUpdate(
            e,
            t.info.task_id.value,
            pa ? "TASK_GONE" : "TASK_LOST",
            "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
            "Executor did not re-register in time",
          );
        }
        this.killProcesses(e);
        e.state = "terminated";
        this.checkpointExecutor(e);
      }
    }, this.opts.executorReregistrationTimeoutMs ?? 2000);
    timer.unref();
  }

  state(): object {
    return {
      id: this.id,
      hostname: this.hostname,
      pid: `slave(1)@${this.endpoint}`,
      master_hostname: this.masterUrl,
      attributes: Object.fromEntries(
        this.attributes.map((a) => [a.name, a.text?.value ?? a.scalar?.value ?? null]),
      ),
      resources: this.total.list.map((r) => present(r, true)),
      frameworks: [...this.frameworks.entries()].map(([id, fw]) => ({
        id,
        name: fw.info.name,
        executors: [...fw.executors.values()].map((e) => ({
          id: e.info.executor_id.value,
          container: e.containerId,
          directory: e.sandbox,
          state: e.state,
          pid: e.pid,
          tasks: [...e.tasks.values()].map((t) => ({ id: t.info.task_id.value, state: t.state })),
        })),
      })),
    };
  }
}

function httpPost(
  base: string,
  path: string,
  payload: string,
  timeoutMs: number,
): Promise<{ status: number; body: string; location?: string }> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        method: "POST",
        headers: { "Content-Type": "application/json" },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ...(res.headers.location ? { location: res.headers.location } : {}),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}
