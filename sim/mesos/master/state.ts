// Read-only views: GET /state (the shape of Mesos' /master/state, trimmed) and the
// operator API POST /api/v1 (GET_MASTER, GET_VERSION, GET_HEALTH, GET_AGENTS,
// GET_FRAMEWORKS, GET_TASKS, GET_MAINTENANCE_SCHEDULE).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Resource } from "../../../src/mesos/types/index.js";
import { parseMesosJson } from "../../../src/mesos/json.js";
import { Resources, present, reservationRole } from "../common/resources.js";
import {
  acceptsJson,
  checkContentType,
  methodNotAllowed,
  readBody,
  sendJson,
  sendText,
} from "../common/http.js";
import type { Agent, Framework, Task } from "./model.js";
import { versionJson, type Master } from "./master.js";

/** Mesos' map form of resources: {"cpus": 4, "ports": "[31000-32000]"}. */
function resourceMap(rs: Resources): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const r of rs.list) {
    if (r.type === "SCALAR") out[r.name] = ((out[r.name] as number) ?? 0) + r.scalar!.value;
    else if (r.type === "RANGES") {
      const text = (r.ranges?.range ?? []).map((x) => `${x.begin}-${x.end}`).join(", ");
      const prev = out[r.name] as string | undefined;
      out[r.name] = prev ? `${prev.slice(0, -1)}, ${text}]` : `[${text}]`;
    } else if (r.type === "SET") out[r.name] = `{${(r.set?.item ?? []).join(", ")}}`;
  }
  for (const k of ["cpus", "mem", "disk", "gpus"]) out[k] ??= 0;
  return out;
}

function attributeMap(a: Agent): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const at of a.attributes) {
    if (at.type === "TEXT") out[at.name] = at.text?.value ?? "";
    else if (at.type === "SCALAR") out[at.name] = at.scalar?.value ?? 0;
    else if (at.type === "RANGES") {
      out[at.name] = `[${(at.ranges?.range ?? []).map((x) => `${x.begin}-${x.end}`).join(", ")}]`;
    } else if (at.type === "SET") out[at.name] = `{${(at.set?.item ?? []).join(", ")}}`;
  }
  return out;
}

function taskJson(t: Task): object {
  return {
    id: t.info.task_id.value,
    name: t.info.name,
    framework_id: t.frameworkId,
    executor_id: t.executorId ?? "",
    slave_id: t.agentId,
    agent_id: t.agentId,
    state: t.state,
    role: t.role,
    resources: resourceMap(new Resources(t.resources)),
    statuses: t.status ? [t.status] : [],
    ...(t.info.labels ? { labels: t.info.labels.labels ?? [] } : {}),
  };
}

function frameworkJson(m: Master, fw: Framework): object {
  const tasks = [...fw.tasks.values()];
  return {
    id: fw.id,
    name: fw.info.name,
    user: fw.info.user,
    principal: fw.info.principal,
    roles: fw.roles,
    role: fw.roles[0] ?? "*",
    suppressed_roles: [...fw.suppressed],
    capabilities: [...fw.capabilities],
    checkpoint: fw.info.checkpoint ?? false,
    failover_timeout: fw.info.failover_timeout ?? 0,
    hostname: fw.info.hostname ?? "",
    webui_url: fw.info.webui_url ?? "",
    active: fw.connected && !fw.removed,
    connected: fw.connected,
    recovered: false,
    registered_time: fw.registeredTime / 1000,
    tasks: tasks.filter((t) => t.state !== "TASK_UNREACHABLE").map(taskJson),
    unreachable_tasks: tasks.filter((t) => t.state === "TASK_UNREACHABLE").map(taskJson),
    completed_tasks: fw.completed.map(taskJson),
    offers: [...m.offers.values()]
      .filter((o) => o.frameworkId === fw.id)
      .map((o) => ({
        id: o.id,
        framework_id: fw.id,
        slave_id: o.agentId,
        resources: resourceMap(o.resources),
        allocation_info: { role: o.role },
      })),
    executors: [...m.agents.values()].flatMap((a) =>
      [...a.executors.values()]
        .filter((e) => e.frameworkId === fw.id)
        .map((e) => ({ ...e.info, slave_id: a.id })),
    ),
  };
}

function agentJson(a: Agent): object {
  const reserved: Record<string, Resources> = {};
  for (const r of a.total.list) {
    const role = reservationRole(r);
    if (role === "*") continue;
    (reserved[role] ??= new Resources()).add(r);
  }
  const full = (rs: Resources): Resource[] => rs.list.map((r) => present(r, true));
  const volumes = a.total.list.filter((r) => r.disk?.persistence).map((r) => present(r, true));
  return {
    id: a.id,
    pid: `slave(1)@${a.ip}:${a.port}`,
    hostname: a.hostname,
    port: a.port,
    registered_time: a.registeredTime / 1000,
    active: a.state === "active",
    state: a.state,
    version: "1.11.0",
    attributes: attributeMap(a),
    attributes_full: a.attributes,
    ...(a.domain ? { domain: a.domain } : {}),
    resources: resourceMap(a.total),
    used_resources: resourceMap(a.used),
    offered_resources: resourceMap(a.offered),
    unreserved_resources: resourceMap(a.total.filter((r) => r.reservations.length === 0)),
    reserved_resources: Object.fromEntries(
      Object.entries(reserved).map(([role, rs]) => [role, resourceMap(rs)]),
    ),
    resources_full: full(a.total),
    used_resources_full: full(a.used),
    offered_resources_full: full(a.offered),
    unreserved_resources_full: full(a.total.filter((r) => r.reservations.length === 0)),
    reserved_resources_full: Object.fromEntries(
      Object.entries(reserved).map(([role, rs]) => [role, full(rs)]),
    ),
    persistent_volumes: volumes,
  };
}

export function stateJson(m: Master): object {
  const agents = [...m.agents.values()];
  return {
    version: "1.11.0",
    git_tag: "1.11.0",
    id: m.id,
    pid: m.info.pid,
    hostname: m.info.hostname,
    leader: m.info.pid,
    leader_info: m.info,
    start_time: m.startTime / 1000,
    elected_time: m.startTime / 1000,
    activated_slaves: agents.filter((a) => a.state === "active").length,
    deactivated_slaves: agents.filter((a) => a.state === "disconnected").length,
    unreachable_slaves: agents.filter((a) => a.state === "unreachable").length,
    ...(m.opts.domain ? { domain: m.opts.domain } : {}),
    frameworks: [...m.frameworks.values()]
      .filter((f) => !f.removed)
      .map((f) => frameworkJson(m, f)),
    completed_frameworks: [...m.frameworks.values()]
      .filter((f) => f.removed)
      .map((f) => frameworkJson(m, f)),
    slaves: agents
      .filter((a) => a.state !== "recovering" && a.state !== "unreachable")
      .map(agentJson),
    recovered_slaves: agents.filter((a) => a.state === "recovering").map((a) => ({ id: a.id })),
    unreachable_slaves_list: agents.filter((a) => a.state === "unreachable").map((a) => a.id),
    maintenance_schedule: m.maintenance.schedule,
  };
}

export async function handleOperator(
  m: Master,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    req.resume();
    return methodNotAllowed(res, req.method ?? "");
  }
  const ctErr = checkContentType(req);
  if (ctErr) {
    req.resume();
    return sendText(res, ctErr[0], ctErr[1]);
  }
  if (!acceptsJson(req)) {
    req.resume();
    return sendText(
      res,
      406,
      "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'",
    );
  }
  let call: { type?: unknown };
  try {
    call = parseMesosJson((await readBody(req)).toString("utf8")) as { type?: unknown };
  } catch (err) {
    return sendText(res, 400, `Failed to parse body into JSON: ${(err as Error).message}`);
  }
  if (typeof call !== "object" || call === null || call.type === undefined) {
    return sendText(res, 400, "Failed to validate master::Call: Expecting 'type' to be present");
  }
  switch (call.type) {
    case "GET_MASTER":
      return sendJson(res, 200, {
        type: "GET_MASTER",
        get_master: {
          master_info: m.info,
          start_time: m.startTime / 1000,
          elected_time: m.startTime / 1000,
        },
      });
    case "GET_VERSION":
      return sendJson(res, 200, {
        type: "GET_VERSION",
        get_version: { version_info: versionJson() },
      });
    case "GET_HEALTH":
      return sendJson(res, 200, { type: "GET_HEALTH", get_health: { healthy: true } });
    case "GET_AGENTS":
      return sendJson(res, 200, {
        type: "GET_AGENTS",
        get_agents: { agents: [...m.agents.values()].map(agentJson) },
      });
    case "GET_FRAMEWORKS":
      return sendJson(res, 200, {
        type: "GET_FRAMEWORKS",
        // As Mesos: a framework torn down (or past its failover timeout) is a completed one.
        get_frameworks: {
          frameworks: [...m.frameworks.values()]
            .filter((f) => !f.removed)
            .map((f) => frameworkJson(m, f)),
          completed_frameworks: [...m.frameworks.values()]
            .filter((f) => f.removed)
            .map((f) => frameworkJson(m, f)),
        },
      });
    case "GET_TASKS":
      return sendJson(res, 200, {
        type: "GET_TASKS",
        get_tasks: { tasks: [...m.allTasks()].map(taskJson) },
      });
    case "GET_MAINTENANCE_SCHEDULE":
      return sendJson(res, 200, {
        type: "GET_MAINTENANCE_SCHEDULE",
        get_maintenance_schedule: { schedule: m.maintenance.schedule },
      });
    default:
      return sendText(res, 501, `Unsupported operator call '${String(call.type)}'`);
  }
}
