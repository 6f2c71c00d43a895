// A Mesos-compatible test master: state, lifecycle of frameworks, agents, offers and
// tasks. HTTP parsing lives in scheduler-http.ts, ACCEPT in operations.ts, the allocator in
// allocator.ts, the agent link in agent-link.ts, read-only views in state.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type {
  DomainInfo,
  FrameworkInfo,
  MasterInfo,
  TaskStatus,
} from "../../../src/mesos/types/index.js";
import { isTerminalTaskState } from "../../../src/mesos/types/index.js";
import { nanosFromMillis } from "../../../src/mesos/json.js";
import { Resources, present, type Res } from "../common/resources.js";
import { methodNotAllowed, sendJson, sendText } from "../common/http.js";
import { allocate } from "./allocator.js";
import { handleScheduler } from "./scheduler-http.js";
import { handleAgentCall, sendToAgent, startPinging } from "./agent-link.js";
import { handleOperator, stateJson } from "./state.js";
import { Maintenance } from "./maintenance.js";
import { ZkMembership } from "../common/zk.js";
import {
  execKey,
  type Agent,
  type EventStream,
  type Framework,
  type InverseOffer,
  type Offer,
  type Task,
} from "./model.js";

export const MESOS_VERSION = "1.11.0";

export interface MasterOptions {
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string;
  port?: number;
  /** Name used in MasterInfo and redirects (default: the bound IP). */
  hostname?: string;
  heartbeatIntervalMs?: number;
  allocationIntervalMs?: number;
  agentPingIntervalMs?: number;
  agentPingTimeoutMs?: number;
  maxAgentPingTimeouts?: number;
  /** How long agents known from the registry may take to re-register after a failover. */
  agentReregisterTimeoutMs?: number;
  /** HTTP Basic credentials for frameworks; enables authentication when set. */
  credentials?: { principal: string; secret: string }[];
  /** File holding the agent registry, shared by masters of one cluster (failover). */
  registryPath?: string;
  /** zk://host:port/path to contend for leadership in. */
  zk?: string;
  domain?: DomainInfo;
  /** Start as a non-leader that knows no leader (503) until told otherwise. */
  standby?: boolean;
  log?: (line: string) => void;
}

interface Faults {
  dropUpdates: number;
  delayUpdatesMs: number;
  /** Launches whose message to the agent is lost (the task stays TASK_STAGING). */
  dropLaunches: number;
}

export class Master {
  readonly id = randomUUID();
  readonly opts: Required<
    Pick<
      MasterOptions,
      | "heartbeatIntervalMs"
      | "allocationIntervalMs"
      | "agentPingIntervalMs"
      | "agentPingTimeoutMs"
      | "maxAgentPingTimeouts"
      | "agentReregisterTimeoutMs"
    >
  > &
    MasterOptions;
  readonly frameworks = new Map<string, Framework>();
  readonly agents = new Map<string, Agent>();
  readonly offers = new Map<string, Offer>();
  readonly inverseOffers = new Map<string, InverseOffer>();
  readonly maintenance = new Maintenance(this);
  readonly faults: Faults = { dropUpdates: 0, delayUpdatesMs: 0, dropLaunches: 0 };
  /** Agent ids the operator marked gone (reconciliation case 5). */
  readonly goneAgents = new Set<string>();
  /** Framework ids torn down or timed out: their SUBSCRIBE gets "Framework has been removed". */
  readonly removedFrameworks = new Set<string>();
  leading: boolean;
  /** The leader's info when this master is not leading (for redirects). */
  leader: MasterInfo | undefined;
  startTime = Date.now();
  private server: Server;
  private frameworkSeq = 0;
  private offerSeq = 0;
  private agentSeq = 0;
  private allocationTimer: NodeJS.Timeout | undefined;
  private allocationPending = false;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private zk: ZkMembership | undefined;
  info!: MasterInfo;
  /** Extra routes under /sim/ (the dev cluster's fault injection). */
  extraRoute:
    ((req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>) | undefined;

  constructor(opts: MasterOptions = {}) {
    this.opts = {
      heartbeatIntervalMs: 15_000,
      allocationIntervalMs: 1000,
      agentPingIntervalMs: 15_000,
      agentPingTimeoutMs: 15_000,
      maxAgentPingTimeouts: 5,
      agentReregisterTimeoutMs: 600_000,
      ...opts,
    };
    this.leading = !opts.standby && !opts.zk;
    this.server = createServer((req, res) => this.route(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  log(line: string): void {
    this.opts.log?.(`master ${this.id.slice(0, 8)}: ${line}`);
  }

  async start(): Promise<void> {
    const host = this.opts.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port ?? 0, host, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    const hostname = this.opts.hostname ?? host;
    const octets = host.split(".").map(Number);
    this.info = {
      id: this.id,
      // The IPv4 address as the in-memory value of a network-order integer.
      ip: ((octets[0]! | (octets[1]! << 8) | (octets[2]! << 16) | (octets[3]! << 24)) >>>
        0) as number,
      port,
      pid: `master@${host}:${port}`,
      hostname,
      version: MESOS_VERSION,
      address: { hostname, ip: host, port },
      ...(this.opts.domain ? { domain: this.opts.domain } : {}),
      capabilities: [{ type: "AGENT_UPDATE" }, { type: "AGENT_DRAINING" }, { type: "QUOTA_V2" }],
    };
    this.allocationTimer = setInterval(() => this.allocateNow(), this.opts.allocationIntervalMs);
    this.allocationTimer.unref();
    if (this.leading) this.becomeLeader();
    if (this.opts.zk) {
      this.zk = new ZkMembership(this.opts.zk, this.info, {
        onLeader: (info) => this.onZkLeader(info),
        log: (l) => this.log(l),
      });
      await this.zk.start();
    }
  }

  get url(): string {
    return `http://${this.info.address!.ip}:${this.info.port}`;
  }

  /** Stops serving; open streams and timers are closed. */
  async stop(): Promise<void> {
    this.maintenance.stop();
    if (this.allocationTimer) clearInterval(this.allocationTimer);
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    for (const fw of this.frameworks.values()) {
      fw.stream?.close();
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      for (const f of fw.filters.values()) clearTimeout(f.timer);
    }
    for (const a of this.agents.values()) if (a.pingTimer) clearTimeout(a.pingTimer);
    await this.zk?.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stops leading: later requests are redirected to `leader` (or 503 without one). */
  demote(leader: MasterInfo | undefined): void {
    this.leading = false;
    this.leader = leader;
    for (const fw of this.frameworks.values()) fw.stream?.close();
    for (const a of this.agents.values()) if (a.pingTimer) clearTimeout(a.pingTimer);
    this.frameworks.clear();
    this.agents.clear();
    this.offers.clear();
  }

  /** Leaves the ZooKeeper election but keeps serving (redirecting to the new leader). */
  async abdicate(): Promise<void> {
    if (this.zk) await this.zk.abdicate();
    else this.demote(undefined);
  }

  /** Takes leadership: agents from the registry are "recovering" until they re-register. */
  becomeLeader(): void {
    this.leading = true;
    this.leader = undefined;
    for (const id of this.maintenance.registryAgents()) {
      if (this.agents.has(id)) continue;
      this.agents.set(id, {
        id,
        hostname: "",
        ip: "",
        port: 0,
        endpoint: "",
        attributes: [],
        total: new Resources(),
        used: new Resources(),
        offered: new Resources(),
        state: "recovering",
        pingMisses: 0,
        executors: new Map(),
        queue: Promise.resolve(),
        registeredTime: Date.now(),
        lastSeen: Date.now(),
        pendingKills: [],
      });
    }
    if ([...this.agents.values()].some((a) => a.state === "recovering")) {
      this.recoveryTimer = setTimeout(() => {
        for (const a of this.agents.values()) {
          if (a.state === "recovering") this.markUnreachable(a, "agent did not re-register");
        }
      }, this.opts.agentReregisterTimeoutMs);
      this.recoveryTimer.unref();
    }
    this.log("leading");
  }

  private onZkLeader(info: MasterInfo | undefined): void {
    if (info && info.id === this.id) {
      if (!this.leading) this.becomeLeader();
    } else if (this.leading) this.demote(info);
    else this.leader = info;
  }

  // ---- HTTP routing -------------------------------------------------------------------

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    const run = async () => {
      if (path.startsWith("/internal/agent/")) return handleAgentCall(this, req, res, path);
      if (path.startsWith("/sim/") && this.extraRoute) return this.extraRoute(req, res, path);
      if (path === "/version" || path === "/master/version") {
        if (req.method !== "GET") return methodNotAllowed(res, req.method ?? "", "GET");
        return sendJson(res, 200, versionJson());
      }
      if (path === "/health" || path === "/master/health") return sendText(res, 200);
      if (path === "/metrics/snapshot") return sendJson(res, 200, this.metrics());
      if (path === "/redirect" || path === "/master/redirect") return this.redirect(req, res, "");
      if (!this.leading) return this.redirect(req, res, req.url ?? "/");
      if (path === "/api/v1/scheduler") return handleScheduler(this, req, res);
      if (path === "/api/v1") return handleOperator(this, req, res);
      if (path === "/state" || path === "/master/state" || path === "/state.json") {
        return sendJson(res, 200, stateJson(this));
      }
      if (this.maintenance.handles(path)) return this.maintenance.handle(req, res, path);
      return sendText(res, 404);
    };
    run().catch((err: unknown) => {
      this.log(`request ${path} failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendText(res, 500, "Internal error");
      else res.destroy();
    });
  }

  /** 307 to the leader (scheme-relative) or 503 when none is known. */
  redirect(req: IncomingMessage, res: ServerResponse, pathAndQuery: string): void {
    const leader = this.leading ? this.info : this.leader;
    if (!leader) return sendText(res, 503, "No leader elected");
    const host = leader.address?.hostname ?? leader.hostname ?? leader.address?.ip;
    const port = leader.address?.port ?? leader.port;
    sendText(res, 307, "", { Location: `//${host}:${port}${pathAndQuery}` });
    req.resume();
  }

  // ---- allocation ---------------------------------------------------------------------

  /** Runs an allocation cycle soon (coalesced), as Mesos does on new frameworks/agents. */
  allocateSoon(): void {
    if (this.allocationPending) return;
    this.allocationPending = true;
    setImmediate(() => this.allocateNow());
  }

  allocateNow(): void {
    this.allocationPending = false;
    if (!this.leading) return;
    const t0 = performance.now();
    allocate(this);
    this.maintenance.resendDue();
    const ms = performance.now() - t0;
    if (ms > 50) this.log(`allocation took ${ms.toFixed(0)} ms`);
  }

  createOffer(fw: Framework, agent: Agent, role: string, resources: Resources): object {
    this.counters.offersSent++;
    const id = `${this.id}-O${this.offerSeq++}`;
    this.offers.set(id, { id, frameworkId: fw.id, agentId: agent.id, role, resources });
    agent.offered.addAll(resources.list);
    return this.offerJson(fw, agent, id, role, resources);
  }

  offerJson(fw: Framework, agent: Agent, id: string, role: string, resources: Resources): object {
    const refinement = fw.capabilities.has("RESERVATION_REFINEMENT");
    const executorIds =
      agent.executors.size === 0
        ? []
        : [...agent.executors.values()]
            .filter((e) => e.frameworkId === fw.id)
            .map((e) => e.info.executor_id);
    const unavailability = this.maintenance.unavailabilityOf(agent);
    return {
      id: { value: id },
      framework_id: { value: fw.id },
      agent_id: { value: agent.id },
      hostname: agent.hostname,
      url: {
        scheme: "http",
        address: { hostname: agent.hostname, ip: agent.ip, port: agent.port },
        path: "/slave(1)",
      },
      ...(agent.domain ? { domain: agent.domain } : {}),
      allocation_info: { role },
      resources: resources.list.map((r) => present(r, refinement, role)),
      ...(agent.attributes.length ? { attributes: agent.attributes } : {}),
      ...(executorIds.length ? { executor_ids: executorIds } : {}),
      ...(unavailability ? { unavailability } : {}),
    };
  }

  /** Returns an offer's resources to the pool; `filterSeconds` installs a refuse filter. */
  releaseOffer(offer: Offer, leftover: Resources | undefined, filterSeconds: number | undefined) {
    this.offers.delete(offer.id);
    const agent = this.agents.get(offer.agentId);
    if (agent) agent.offered.subtractAll(offer.resources.list);
    const fw = this.frameworks.get(offer.frameworkId);
    if (fw && leftover && !leftover.empty && filterSeconds !== undefined && filterSeconds > 0) {
      const key = `${offer.agentId} ${offer.role}`;
      const old = fw.filters.get(key);
      if (old) clearTimeout(old.timer);
      const ms = Math.min(filterSeconds, 31_536_000) * 1000;
      const timer = setTimeout(() => {
        fw.filters.delete(key);
        this.allocateSoon();
      }, ms);
      timer.unref();
      fw.filters.set(key, { resources: leftover, expires: Date.now() + ms, timer });
    }
    this.allocateSoon();
  }

  rescindOffer(offer: Offer): void {
    this.releaseOffer(offer, undefined, undefined);
    this.frameworks
      .get(offer.frameworkId)
      ?.stream?.send({ type: "RESCIND", rescind: { offer_id: { value: offer.id } } });
  }

  rescindAgentOffers(agent: Agent): void {
    for (const o of [...this.offers.values()]) if (o.agentId === agent.id) this.rescindOffer(o);
    for (const io of [...this.inverseOffers.values()]) {
      if (io.agentId !== agent.id) continue;
      this.inverseOffers.delete(io.id);
      this.frameworks.get(io.frameworkId)?.stream?.send({
        type: "RESCIND_INVERSE_OFFER",
        rescind_inverse_offer: { inverse_offer_id: { value: io.id } },
      });
    }
  }

  /** Offers of a framework vanish silently when it disconnects or re-subscribes. */
  discardOffers(fw: Framework): void {
    for (const o of [...this.offers.values()]) {
      if (o.frameworkId === fw.id) this.releaseOffer(o, undefined, undefined);
    }
    for (const io of [...this.inverseOffers.values()]) {
      if (io.frameworkId === fw.id) this.inverseOffers.delete(io.id);
    }
  }

  // ---- frameworks ---------------------------------------------------------------------

  newFrameworkId(): string {
    return `${this.id}-${String(this.frameworkSeq++).padStart(4, "0")}`;
  }

  /** Adopts a new subscription stream (the previous one, if any, gets "failed over"). */
  attachStream(fw: Framework, stream: EventStream): void {
    const old = fw.stream;
    if (old && !old.closed) {
      old.send({ type: "ERROR", error: { message: "Framework failed over" } });
      old.close();
    }
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    fw.failoverTimer = undefined;
    fw.stream = stream;
    fw.connected = true;
    this.clearFilters(fw);
    this.discardOffers(fw);
    stream.res.on("close", () => {
      if (fw.stream === stream) this.disconnectFramework(fw);
    });
  }

  /**
   * Refuse filters do not outlive a subscription: Mesos's allocator drops them when the
   * framework is deactivated (disconnect, failover), so a successor is offered everything.
   */
  private clearFilters(fw: Framework): void {
    for (const f of fw.filters.values()) clearTimeout(f.timer);
    fw.filters.clear();
  }

  disconnectFramework(fw: Framework): void {
    if (!fw.connected) return;
    fw.connected = false;
    fw.stream = undefined;
    this.clearFilters(fw);
    this.discardOffers(fw);
    const ms = Math.max(0, (fw.info.failover_timeout ?? 0) * 1000);
    this.log(`framework ${fw.id} disconnected; failover timeout ${ms} ms`);
    if (ms === 0) return this.removeFramework(fw);
    fw.failoverTimer = setTimeout(() => this.removeFramework(fw), Math.min(ms, 2 ** 31 - 1));
    fw.failoverTimer.unref();
  }

  /** Teardown or failover timeout: kill everything, forget the id forever. */
  removeFramework(fw: Framework): void {
    if (fw.removed) return;
    fw.removed = true;
    this.removedFrameworks.add(fw.id);
    fw.connected = false;
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    for (const f of fw.filters.values()) clearTimeout(f.timer);
    fw.filters.clear();
    fw.stream?.close();
    fw.stream = undefined;
    this.discardOffers(fw);
    const agentIds = new Set<string>();
    for (const t of fw.tasks.values()) {
      agentIds.add(t.agentId);
      this.releaseTask(t);
      if (!isTerminalTaskState(t.state)) t.state = "TASK_KILLED";
      fw.completed.push(t);
    }
    fw.tasks.clear();
    for (const a of this.agents.values()) {
      for (const [k, e] of [...a.executors]) {
        if (e.frameworkId !== fw.id) continue;
        agentIds.add(a.id);
        a.used.subtractAll(e.resources);
        a.executors.delete(k);
      }
    }
    for (const id of agentIds) {
      const a = this.agents.get(id);
      if (a) sendToAgent(this, a, "shutdown_framework", { framework_id: fw.id });
    }
    this.maintenance.persist();
    this.log(`framework ${fw.id} removed`);
    this.allocateSoon();
  }

  // ---- tasks --------------------------------------------------------------------------

  *allTasks(): Iterable<Task> {
    for (const fw of this.frameworks.values()) yield* fw.tasks.values();
  }

  /** Frees a task's resources once (terminal state). */
  releaseTask(t: Task): void {
    if (t.released) return;
    t.released = true;
    this.agents.get(t.agentId)?.used.subtractAll(t.resources);
    this.allocateSoon();
  }

  partitionAware(fw: Framework): boolean {
    return fw.capabilities.has("PARTITION_AWARE");
  }

  /** A master-generated update: no uuid, sent once, dropped if disconnected. */
  sendMasterUpdate(
    fw: Framework,
    t: { taskId: string; agentId?: string; executorId?: string },
    state: TaskStatus["state"],
    reason: string,
    message: string,
    extra: Partial<TaskStatus> = {},
  ): void {
    const status: TaskStatus = {
      task_id: { value: t.taskId },
      state,
      source: "SOURCE_MASTER",
      reason,
      message,
      timestamp: Date.now() / 1000,
      ...(t.agentId ? { agent_id: { value: t.agentId } } : {}),
      ...(t.executorId ? { executor_id: { value: t.executorId } } : {}),
      ...extra,
    };
    if (fw.connected) fw.stream?.send({ type: "UPDATE", update: { status } });
  }

  /** An update relayed by an agent: record it and forward it with its uuid. */
  /** Message counters of /metrics/snapshot (Mesos' names). */
  readonly counters = { statusUpdates: 0, acknowledgements: 0, offersSent: 0 };

  async onStatusUpdate(agent: Agent, frameworkId: string, status: TaskStatus): Promise<boolean> {
    this.counters.statusUpdates++;
    if (this.faults.dropUpdates > 0) {
      this.faults.dropUpdates--;
      return false;
    }
    if (this.faults.delayUpdatesMs > 0) {
      await new Promise((r) => setTimeout(r, this.faults.delayUpdatesMs));
    }
    const fw = this.frameworks.get(frameworkId);
    if (!fw || fw.removed) {
      // Nobody will acknowledge it: let the agent garbage-collect.
      if (status.uuid) {
        sendToAgent(this, agent, "ack", {
          framework_id: frameworkId,
          task_id: status.task_id.value,
          uuid: status.uuid,
        });
      }
      return true;
    }
    const t = fw.tasks.get(status.task_id.value);
    const out: TaskStatus = { ...status, agent_id: { value: agent.id } };
    if (t) {
      if (t.executorId && !out.executor_id) out.executor_id = { value: t.executorId };
      t.state = status.state;
      t.status = out;
      if (isTerminalTaskState(status.state)) this.releaseTask(t);
    }
    if (fw.connected) fw.stream?.send({ type: "UPDATE", update: { status: out } });
    return true;
  }

  /** Scheduler ACKNOWLEDGE: forward to the agent; forget terminal tasks once acknowledged. */
  acknowledge(fw: Framework, agentId: string, taskId: string, uuid: string): void {
    this.counters.acknowledgements++;
    const agent = this.agents.get(agentId);
    const t = fw.tasks.get(taskId);
    if (t && t.status?.uuid === uuid && isTerminalTaskState(t.state)) {
      fw.tasks.delete(taskId);
      fw.completed.push(t);
      if (fw.completed.length > 1000) fw.completed.shift();
    }
    if (agent && agent.state === "active") {
      sendToAgent(this, agent, "ack", { framework_id: fw.id, task_id: taskId, uuid });
    }
  }

  // ---- agents -------------------------------------------------------------------------

  newAgentId(): string {
    return `${this.id}-S${this.agentSeq++}`;
  }

  /** Agent connection lost (its process refused a ping). */
  agentDisconnected(agent: Agent): void {
    if (agent.state !== "active") return;
    agent.state = "disconnected";
    this.log(`agent ${agent.id} disconnected`);
    this.rescindAgentOffers(agent);
    // Non-checkpointing frameworks lose their tasks at once.
    for (const fw of this.frameworks.values()) {
      if (fw.info.checkpoint) continue;
      for (const t of [...fw.tasks.values()]) {
        if (t.agentId !== agent.id || isTerminalTaskState(t.state)) continue;
        t.state = "TASK_LOST";
        this.releaseTask(t);
        this.sendMasterUpdate(
          fw,
          { taskId: t.info.task_id.value, agentId: agent.id, executorId: t.executorId },
          "TASK_LOST",
          "REASON_AGENT_DISCONNECTED",
          "Agent disconnected",
        );
      }
    }
  }

  /** Health checks failed: TASK_UNREACHABLE (partition aware) or TASK_LOST, plus FAILURE. */
  markUnreachable(agent: Agent, why: string): void {
    if (agent.state === "unreachable" || agent.state === "gone") return;
    const wasRecovering = agent.state === "recovering";
    agent.state = "unreachable";
    agent.unreachableTime = nanosFromMillis(Date.now());
    if (agent.pingTimer) clearTimeout(agent.pingTimer);
    this.log(`agent ${agent.id} unreachable: ${why}`);
    this.rescindAgentOffers(agent);
    for (const fw of this.frameworks.values()) {
      let had = false;
      for (const t of fw.tasks.values()) {
        if (t.agentId !== agent.id) continue;
        had = true;
        if (isTerminalTaskState(t.state)) continue;
        const pa = this.partitionAware(fw);
        t.state = pa ? "TASK_UNREACHABLE" : "TASK_LOST";
        t.unreachableTime = agent.unreachableTime;
        this.releaseTask(t);
        this.sendMasterUpdate(
          fw,
          { taskId: t.info.task_id.value, agentId: agent.id, executorId: t.executorId },
          t.state,
          "REASON_AGENT_REMOVED",
          "Agent removed: health check timed out",
          { unreachable_time: { nanoseconds: agent.unreachableTime } },
        );
      }
      if (fw.connected && (had || !wasRecovering)) {
        fw.stream?.send({ type: "FAILURE", failure: { agent_id: { value: agent.id } } });
      }
    }
    agent.used = new Resources();
    agent.executors.clear();
    this.maintenance.persist();
  }

  /** Removes an agent: maintenance DOWN (TASK_LOST), marked gone by the operator
   *  (TASK_GONE_BY_OPERATOR), or replaced after a host reboot (TASK_GONE); legacy
   *  frameworks get TASK_LOST in every case. */
  removeAgent(agent: Agent, reason: string, kind: "removed" | "gone" | "rebooted"): void {
    const gone = kind === "gone";
    if (agent.pingTimer) clearTimeout(agent.pingTimer);
    this.rescindAgentOffers(agent);
    for (const fw of this.frameworks.values()) {
      for (const t of fw.tasks.values()) {
        if (t.agentId !== agent.id || isTerminalTaskState(t.state)) continue;
        const pa = this.partitionAware(fw);
        const state =
          pa && kind === "gone"
            ? "TASK_GONE_BY_OPERATOR"
            : pa && kind === "rebooted"
              ? "TASK_GONE"
              : "TASK_LOST";
        t.state = state;
        this.releaseTask(t);
        this.sendMasterUpdate(
          fw,
          { taskId: t.info.task_id.value, agentId: agent.id, executorId: t.executorId },
          state,
          gone ? "REASON_AGENT_REMOVED_BY_OPERATOR" : "REASON_AGENT_REMOVED",
          reason,
        );
      }
      // Every framework hears of a removed agent (Mesos notifies all registered frameworks
      // of a lost agent), not only those with tasks there: its resources and offers are gone.
      if (fw.connected) {
        fw.stream?.send({ type: "FAILURE", failure: { agent_id: { value: agent.id } } });
      }
    }
    agent.state = "gone";
    if (gone) this.goneAgents.add(agent.id);
    this.agents.delete(agent.id);
    this.maintenance.persist();
  }

  startPinging(agent: Agent): void {
    startPinging(this, agent);
  }

  regionVisible(agent: Agent, fw: Framework): boolean {
    const mine = this.opts.domain?.fault_domain?.region.name;
    const theirs = agent.domain?.fault_domain?.region.name;
    if (!mine || !theirs || mine === theirs) return true;
    return fw.capabilities.has("REGION_AWARE");
  }

  /** A few of Mesos' /metrics/snapshot keys. */
  metrics(): Record<string, number> {
    const agents = [...this.agents.values()];
    const frameworks = [...this.frameworks.values()];
    return {
      "master/elected": this.leading ? 1 : 0,
      "master/uptime_secs": (Date.now() - this.startTime) / 1000,
      "master/slaves_active": agents.filter((a) => a.state === "active").length,
      "master/slaves_disconnected": agents.filter((a) => a.state === "disconnected").length,
      "master/slaves_unreachable": agents.filter((a) => a.state === "unreachable").length,
      "master/frameworks_active": frameworks.filter((f) => f.connected && !f.removed).length,
      "master/frameworks_disconnected": frameworks.filter((f) => !f.connected && !f.removed).length,
      "master/outstanding_offers": this.offers.size,
      "master/tasks_running": [...this.allTasks()].filter((t) => t.state === "TASK_RUNNING").length,
      "master/messages_status_update": this.counters.statusUpdates,
      "master/messages_status_update_acknowledgement": this.counters.acknowledgements,
    };
  }

  executorOf(agent: Agent, frameworkId: string, executorId: string) {
    return agent.executors.get(execKey(frameworkId, executorId));
  }

  frameworkInfoFor(fw: Framework): FrameworkInfo {
    return { ...fw.info, id: { value: fw.id } };
  }

  resourcesUsedBy(task: Task): Res[] {
    return task.resources;
  }
}

export function versionJson(): object {
  return {
    build_date: "2026-01-01 00:00:00",
    build_time: 1767225600,
    build_user: "sim",
    git_sha: "0000000000000000000000000000000000000000",
    git_tag: MESOS_VERSION,
    version: MESOS_VERSION,
  };
}
