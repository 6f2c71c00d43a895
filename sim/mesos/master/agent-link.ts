// The master's side of the internal agent protocol (see common/internal.ts): agent
// registration and re-registration, relayed status updates, executor exits, messages,
// health pings, and ordered master->agent messages.
import { request, Agent as HttpAgent, type IncomingMessage, type ServerResponse } from "node:http";
import type { FrameworkInfo, TaskStatus } from "../../../src/mesos/types/index.js";
import { isTerminalTaskState } from "../../../src/mesos/types/index.js";
import { parseMesosJson, stringifyMesosJson } from "../../../src/mesos/json.js";
import { Resources, normalize } from "../common/resources.js";
import { readBody, sendJson, sendText } from "../common/http.js";
import type {
  ExecutorExitedMessage,
  ExecutorMessage,
  RegisterRequest,
  RegisterResponse,
  StatusMessage,
} from "../common/internal.js";
import { execKey, type Agent, type Framework } from "./model.js";
import type { Master } from "./master.js";

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 4 });

export async function handleAgentCall(
  m: Master,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (req.method !== "POST") return sendText(res, 405);
  if (!m.leading) return m.redirect(req, res, req.url ?? "/");
  let body: unknown;
  try {
    body = parseMesosJson((await readBody(req)).toString("utf8"));
  } catch {
    return sendText(res, 400, "bad JSON");
  }
  const op = path.slice("/internal/agent/".length);
  if (op === "register") return register(m, res, body as RegisterRequest);
  const msg = body as { agent_id?: string };
  const agent = msg.agent_id ? m.agents.get(msg.agent_id) : undefined;
  if (!agent || agent.state !== "active") {
    // Unknown or not (yet) re-registered: tell it to register again.
    return sendText(res, 409, "Agent is not registered");
  }
  agent.lastSeen = Date.now();
  if (op === "status") {
    const s = body as StatusMessage;
    await m.onStatusUpdate(agent, s.framework_id, s.status);
    return sendText(res, 202);
  }
  if (op === "executor_exited") {
    executorExited(m, agent, body as ExecutorExitedMessage);
    return sendText(res, 202);
  }
  if (op === "message") {
    const e = body as ExecutorMessage;
    const fw = m.frameworks.get(e.framework_id);
    if (fw?.connected) {
      fw.stream?.send({
        type: "MESSAGE",
        message: {
          agent_id: { value: agent.id },
          executor_id: { value: e.executor_id },
          data: e.data,
        },
      });
    }
    return sendText(res, 202);
  }
  return sendText(res, 404);
}

function executorExited(m: Master, agent: Agent, e: ExecutorExitedMessage): void {
  const key = execKey(e.framework_id, e.executor_id);
  const rec = agent.executors.get(key);
  if (rec) {
    agent.used.subtractAll(rec.resources);
    agent.executors.delete(key);
    m.allocateSoon();
  }
  const fw = m.frameworks.get(e.framework_id);
  if (fw?.connected) {
    fw.stream?.send({
      type: "FAILURE",
      failure: {
        agent_id: { value: agent.id },
        executor_id: { value: e.executor_id },
        status: e.status,
      },
    });
  }
}

function register(m: Master, res: ServerResponse, body: RegisterRequest): void {
  const info = body.agent_info;
  const [ip, portText] = body.endpoint.split(":");
  if (m.maintenance.isDownMachine(info.hostname, ip ?? "")) {
    return sendText(res, 403, "Agent's machine is DOWN for maintenance");
  }
  let id = info.id?.value;
  if (id && m.goneAgents.has(id)) return sendText(res, 403, "Agent has been marked gone");
  if (!id) {
    // A fresh registration from an endpoint that already has an agent (retry after a
    // timeout, or a host reboot that wiped the work directory): the old one is removed.
    for (const other of [...m.agents.values()]) {
      if (other.endpoint === body.endpoint && other.state !== "recovering") {
        m.removeAgent(other, "Agent re-registered with a new id (host rebooted)", "rebooted");
      }
    }
  }
  let agent = id ? m.agents.get(id) : undefined;
  const previous = agent?.state;
  if (!id) id = m.newAgentId();
  if (agent) {
    if (agent.pingTimer) clearTimeout(agent.pingTimer);
    if (previous === "active" || previous === "disconnected") m.rescindAgentOffers(agent);
  } else {
    agent = {
      id,
      hostname: info.hostname,
      ip: ip ?? "",
      port: Number(portText),
      endpoint: body.endpoint,
      attributes: [],
      total: new Resources(),
      used: new Resources(),
      offered: new Resources(),
      state: "active",
      pingMisses: 0,
      executors: new Map(),
      queue: Promise.resolve(),
      registeredTime: Date.now(),
      lastSeen: Date.now(),
      pendingKills: [],
    };
    m.agents.set(id, agent);
  }
  agent.hostname = info.hostname;
  agent.ip = ip ?? "";
  agent.port = Number(portText);
  agent.endpoint = body.endpoint;
  agent.attributes = info.attributes ?? [];
  if (info.domain) agent.domain = info.domain;
  else delete agent.domain;
  agent.total = Resources.of(body.resources);
  agent.offered = new Resources();
  agent.state = "active";
  agent.pingMisses = 0;
  agent.lastSeen = Date.now();
  delete agent.unreachableTime;

  // Frameworks the agent knows and this master does not (master failover) are recovered
  // as disconnected until they resubscribe.
  const killFrameworks = new Set<string>();
  for (const fi of body.frameworks) {
    const fid = fi.id?.value;
    if (!fid) continue;
    if (m.removedFrameworks.has(fid)) killFrameworks.add(fid);
    else if (!m.frameworks.has(fid)) recoverFramework(m, fi);
  }
  agent.executors = new Map();
  agent.used = new Resources();
  for (const e of body.executors) {
    if (killFrameworks.has(e.framework_id)) continue;
    const fw = m.frameworks.get(e.framework_id);
    const resources = (e.executor_info.resources ?? []).map((r) => normalize(r));
    agent.executors.set(execKey(e.framework_id, e.executor_info.executor_id.value), {
      frameworkId: e.framework_id,
      info: e.executor_info,
      resources,
      role: e.executor_info.resources?.[0]?.allocation_info?.role ?? fw?.roles[0] ?? "*",
    });
    agent.used.addAll(resources);
  }
  const reported = new Set<string>();
  for (const rt of body.tasks) {
    const fw = m.frameworks.get(rt.framework_id);
    if (!fw || fw.removed) continue;
    reported.add(`${rt.framework_id} ${rt.task.task_id.value}`);
    const resources = (rt.task.resources ?? []).map((r) => normalize(r));
    const terminal = isTerminalTaskState(rt.state);
    let t = fw.tasks.get(rt.task.task_id.value);
    const wasState = t?.state;
    if (!t) {
      t = {
        info: rt.task,
        frameworkId: fw.id,
        agentId: agent.id,
        ...(rt.executor_id ? { executorId: rt.executor_id } : {}),
        role: rt.role ?? rt.task.resources?.[0]?.allocation_info?.role ?? fw.roles[0] ?? "*",
        resources,
        state: rt.state,
        released: terminal,
      };
      if (rt.status) t.status = rt.status;
      fw.tasks.set(t.info.task_id.value, t);
    } else {
      t.state = rt.state;
      t.released = terminal;
      if (rt.status) t.status = rt.status;
      delete t.unreachableTime;
    }
    if (!terminal) agent.used.addAll(resources);
    // A task that was reported unreachable/lost comes back with its real state.
    if (
      (previous === "unreachable" || wasState === "TASK_LOST" || wasState === "TASK_UNREACHABLE") &&
      wasState !== rt.state
    ) {
      m.sendMasterUpdate(
        fw,
        { taskId: t.info.task_id.value, agentId: agent.id, executorId: t.executorId },
        rt.state,
        "REASON_AGENT_REREGISTERED",
        "Agent re-registered",
      );
    }
  }
  // Tasks the master had on this agent that the agent no longer knows.
  for (const fw of m.frameworks.values()) {
    for (const t of [...fw.tasks.values()]) {
      if (t.agentId !== agent.id || reported.has(`${fw.id} ${t.info.task_id.value}`)) continue;
      if (isTerminalTaskState(t.state)) continue;
      const state = m.partitionAware(fw) ? "TASK_GONE" : "TASK_LOST";
      t.state = state;
      t.released = true;
      m.sendMasterUpdate(
        fw,
        { taskId: t.info.task_id.value, agentId: agent.id, executorId: t.executorId },
        state,
        "REASON_AGENT_RESTARTED",
        "Task is unknown to the re-registered agent",
      );
    }
  }
  m.log(
    `agent ${agent.id} ${previous ? `re-registered (was ${previous})` : "registered"} at ${body.endpoint}`,
  );
  m.maintenance.persist();
  const reply: RegisterResponse = {
    agent_id: agent.id,
    master_id: m.id,
    ping_interval_ms: m.opts.agentPingIntervalMs,
    ping_timeout_ms: m.opts.agentPingTimeoutMs,
    max_ping_timeouts: m.opts.maxAgentPingTimeouts,
    kill_frameworks: [...killFrameworks],
  };
  sendJson(res, 200, reply);
  const kills = agent.pendingKills.splice(0);
  for (const k of kills)
    sendToAgent(m, agent, "kill_task", { framework_id: k.frameworkId, task_id: k.taskId });
  startPinging(m, agent);
  m.maintenance.onAgentRegistered(agent);
  m.allocateSoon();
}

function recoverFramework(m: Master, fi: FrameworkInfo): void {
  const id = fi.id!.value;
  const caps = new Set<string>((fi.capabilities ?? []).map((c) => c.type));
  const fw: Framework = {
    id,
    info: fi,
    roles: caps.has("MULTI_ROLE") ? (fi.roles ?? []) : [fi.role ?? "*"],
    suppressed: new Set(),
    capabilities: caps,
    connected: false,
    removed: false,
    filters: new Map(),
    inverseFilters: new Map(),
    tasks: new Map(),
    completed: [],
    registeredTime: Date.now(),
  };
  m.frameworks.set(id, fw);
  const ms = Math.max(0, (fi.failover_timeout ?? 0) * 1000);
  fw.failoverTimer = setTimeout(() => m.removeFramework(fw), Math.min(ms, 2 ** 31 - 1));
  fw.failoverTimer.unref();
}

/** Queues one master->agent message; delivery is ordered, loss is tolerated like Mesos'. */
export function sendToAgent(m: Master, agent: Agent, op: string, body: unknown): void {
  if (op === "run_task" && m.faults.dropLaunches > 0) {
    m.faults.dropLaunches--;
    m.log(`message ${op} to agent ${agent.id} lost (fault injection)`);
    return;
  }
  const payload = stringifyMesosJson(body);
  agent.queue = agent.queue.then(() =>
    post(agent.endpoint, `/internal/master/${op}`, payload, m.id, m.opts.agentPingTimeoutMs).then(
      () => {
        agent.lastSeen = Date.now();
      },
      (err: NodeJS.ErrnoException) => {
        m.log(`message ${op} to agent ${agent.id} lost: ${err.code ?? err.message}`);
        if (err.code === "ECONNREFUSED") m.agentDisconnected(agent);
      },
    ),
  );
}

function post(
  endpoint: string,
  path: string,
  payload: string,
  masterId: string,
  timeoutMs: number,
): Promise<number> {
  const [host, port] = endpoint.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        method: "POST",
        agent: httpAgent,
        headers: { "Content-Type": "application/json", "X-Sim-Master-Id": masterId },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function ping(endpoint: string, masterId: string, timeoutMs: number): Promise<number> {
  const [host, port] = endpoint.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path: `/internal/ping?master=${encodeURIComponent(masterId)}`,
        method: "GET",
        agent: httpAgent,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end();
  });
}

/** Health checks: a refused connection means the agent process is gone (disconnected);
 *  `maxAgentPingTimeouts` consecutive failures mark it unreachable. */
export function startPinging(m: Master, agent: Agent): void {
  if (agent.pingTimer) clearTimeout(agent.pingTimer);
  const tick = () => {
    if (!m.leading || agent.state === "unreachable" || agent.state === "gone") return;
    if (m.agents.get(agent.id) !== agent) return;
    ping(agent.endpoint, m.id, m.opts.agentPingTimeoutMs).then(
      (code) => {
        if (code === 200) {
          agent.pingMisses = 0;
          agent.lastSeen = Date.now();
        } else miss(undefined);
        schedule();
      },
      (err: NodeJS.ErrnoException) => {
        miss(err.code);
        schedule();
      },
    );
  };
  const miss = (code: string | undefined) => {
    agent.pingMisses++;
    if (code === "ECONNREFUSED") m.agentDisconnected(agent);
    if (agent.pingMisses >= m.opts.maxAgentPingTimeouts) {
      m.markUnreachable(agent, `${agent.pingMisses} pings missed`);
    }
  };
  const schedule = (delay = m.opts.agentPingIntervalMs) => {
    if (agent.state === "unreachable" || agent.state === "gone" || !m.leading) return;
    if (m.agents.get(agent.id) !== agent) return;
    agent.pingTimer = setTimeout(tick, delay);
    agent.pingTimer.unref();
  };
  // Spread the first ping so thousands of agents registered together are not pinged at once.
  schedule(m.opts.agentPingIntervalMs * (0.5 + Math.random() / 2));
}

export type { TaskStatus };
