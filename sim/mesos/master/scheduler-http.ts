// POST /api/v1/scheduler: the HTTP-level checks in the order Mesos applies them
// (master/http.cpp), call validation (scheduler/validation.cpp), and dispatch.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type {
  FrameworkInfo,
  SchedulerCall,
  SubscribeBody,
  UpdateFrameworkBody,
} from "../../../src/mesos/types/index.js";
import { isTerminalTaskState } from "../../../src/mesos/types/index.js";
import { isStatusUuid } from "../../../src/mesos/bytes.js";
import { acceptsJson, readCall, basicAuth, sendText } from "../common/http.js";
import { SchedulerCallFields } from "../common/schema.js";
import { validateRole } from "../common/validate.js";
import { EventStream, type Framework } from "./model.js";
import type { Master } from "./master.js";
import { accept } from "./operations.js";
import { reconcile } from "./reconcile.js";
import { sendToAgent } from "./agent-link.js";

const REALM = 'Basic realm="mesos-master-scheduler"';

/** Calls whose body object must be present (TEARDOWN, REVIVE, SUPPRESS may omit it). */
const BODY_REQUIRED = new Set([
  "ACCEPT",
  "DECLINE",
  "ACCEPT_INVERSE_OFFERS",
  "DECLINE_INVERSE_OFFERS",
  "KILL",
  "SHUTDOWN",
  "ACKNOWLEDGE",
  "ACKNOWLEDGE_OPERATION_STATUS",
  "RECONCILE",
  "RECONCILE_OPERATIONS",
  "MESSAGE",
  "REQUEST",
  "UPDATE_FRAMEWORK",
]);

export async function handleScheduler(
  m: Master,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let principal: string | undefined;
  if (m.opts.credentials) {
    const cred = basicAuth(req);
    const ok =
      cred && m.opts.credentials.some((c) => c.principal === cred[0] && c.secret === cred[1]);
    if (!ok) {
      req.resume();
      return sendText(res, 401, "", { "WWW-Authenticate": REALM });
    }
    principal = cred[0];
  }
  const call = await readCall<SchedulerCall>(req, res, SchedulerCallFields);
  if (!call) return;
  const invalid = validateCall(call);
  if (invalid) return sendText(res, 400, `Failed to validate scheduler::Call: ${invalid}`);

  if (call.type === "SUBSCRIBE") {
    if (!acceptsJson(req)) {
      return sendText(
        res,
        406,
        "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'",
      );
    }
    if (req.headers["mesos-stream-id"] !== undefined) {
      return sendText(res, 400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    }
    const info = call.subscribe.framework_info;
    if (principal !== undefined) {
      if (info.principal === undefined) info.principal = principal;
      else if (info.principal !== principal) {
        return sendText(
          res,
          400,
          `Authenticated principal '${principal}' does not match principal '${info.principal}' set in \`FrameworkInfo\``,
        );
      }
    }
    return subscribe(m, res, call.subscribe);
  }
  if ((call.type as string) === "UNKNOWN") {
    return sendText(res, 501, "Received an unexpected 'UNKNOWN' call");
  }
  const fw = m.frameworks.get(call.framework_id!.value);
  if (!fw || fw.removed) return sendText(res, 400, "Framework cannot be found");
  if (principal !== undefined && principal !== fw.info.principal) {
    return sendText(
      res,
      400,
      `Authenticated principal '${principal}' does not match principal '${fw.info.principal ?? ""}' set in \`FrameworkInfo\``,
    );
  }
  if (!fw.connected || !fw.stream) return sendText(res, 403, "Framework is not subscribed");
  const streamId = req.headers["mesos-stream-id"];
  if (streamId === undefined) {
    return sendText(
      res,
      400,
      "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
    );
  }
  if (streamId !== fw.stream.streamId) {
    return sendText(
      res,
      400,
      `The stream ID '${String(streamId)}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`,
    );
  }
  if (call.type === "UPDATE_FRAMEWORK") {
    const err = updateFramework(m, fw, call.update_framework);
    if (err) return sendText(res, 400, err);
    return sendText(res, 200);
  }
  dispatch(m, fw, call);
  return sendText(res, 202);
}

function validateCall(c: SchedulerCall): string | undefined {
  // Loosely typed: the body objects are exactly what is being checked.
  const call = c as unknown as Loose;
  const type = call.type;
  if (type === undefined) return "Expecting 'type' to be present";
  if (type === "SUBSCRIBE") {
    if (!call.subscribe) return "Expecting 'subscribe' to be present";
    const infoId = call.subscribe.framework_info.id?.value;
    if (infoId !== call.framework_id?.value) {
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    }
    return undefined;
  }
  if (!call.framework_id) return "Expecting 'framework_id' to be present";
  if (type === "UNKNOWN") return undefined;
  const key = type.toLowerCase();
  const body = (call as Record<string, unknown>)[key];
  if (BODY_REQUIRED.has(type) && body === undefined) return `Expecting '${key}' to be present`;
  if (type === "ACKNOWLEDGE" && !isStatusUuid(call.acknowledge!.uuid!)) return "Not a valid UUID";
  if (type === "ACKNOWLEDGE_OPERATION_STATUS") {
    if (!isStatusUuid(call.acknowledge_operation_status!.uuid!)) return "Not a valid UUID";
  }
  if (type === "UPDATE_FRAMEWORK") {
    if (call.update_framework!.framework_info.id?.value !== call.framework_id.value) {
      return "'framework_id' differs from 'update_framework.framework_info.id'";
    }
  }
  return undefined;
}

interface Loose {
  type?: string;
  framework_id?: { value: string };
  subscribe?: SubscribeBody;
  update_framework?: UpdateFrameworkBody;
  acknowledge?: { uuid?: string };
  acknowledge_operation_status?: { uuid?: string };
  [k: string]: unknown;
}

function capabilitySet(info: FrameworkInfo): Set<string> {
  return new Set((info.capabilities ?? []).map((c) => c.type).filter(Boolean));
}

/** Mesos' FrameworkInfo validation; returns the text of the ERROR event. */
function validateFrameworkInfo(info: FrameworkInfo, suppressed: string[]): string | undefined {
  const caps = capabilitySet(info);
  let roles: string[];
  if (caps.has("MULTI_ROLE")) {
    if (info.role !== undefined) {
      return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
    }
    roles = info.roles ?? [];
    if (new Set(roles).size !== roles.length) {
      return "'FrameworkInfo.roles' contains duplicate items";
    }
  } else {
    if (info.roles !== undefined && info.roles.length > 0) {
      return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
    }
    roles = [info.role ?? "*"];
  }
  for (const r of roles) {
    const e = validateRole(r);
    if (e) return `Role '${r}' is invalid: ${e}`;
  }
  const ft = info.failover_timeout;
  if (ft !== undefined && (!Number.isFinite(ft) || ft < 0 || ft > 9.2e9)) {
    return `Invalid 'FrameworkInfo.failover_timeout': ${ft}`;
  }
  for (const s of suppressed) {
    if (!roles.includes(s)) {
      return `Suppressed role '${s}' is not contained in the list of roles`;
    }
  }
  return undefined;
}

function rolesOf(info: FrameworkInfo): string[] {
  return capabilitySet(info).has("MULTI_ROLE") ? (info.roles ?? []) : [info.role ?? "*"];
}

function subscribe(m: Master, res: ServerResponse, sub: SubscribeBody): void {
  const streamId = randomUUID();
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Transfer-Encoding": "chunked",
    "Mesos-Stream-Id": streamId,
    "Cache-Control": "no-cache",
  });
  res.flushHeaders();
  const stream = new EventStream(res, streamId);
  const refuse = (message: string) => {
    stream.send({ type: "ERROR", error: { message } });
    stream.close();
  };
  const info = sub.framework_info;
  const suppressed = sub.suppressed_roles ?? [];
  const err = validateFrameworkInfo(info, suppressed);
  if (err) return refuse(err);

  const id = info.id?.value;
  let fw = id ? m.frameworks.get(id) : undefined;
  if (fw?.removed || (id && m.removedFrameworks.has(id))) {
    return refuse("Framework has been removed");
  }
  const resubscribing = fw !== undefined;
  if (fw) {
    if ((fw.info.principal ?? "") !== (info.principal ?? "")) {
      return refuse("Changing framework's principal is not allowed");
    }
    // user and checkpoint are immutable: changes are ignored silently.
    fw.info = { ...info, user: fw.info.user, checkpoint: fw.info.checkpoint, id: { value: fw.id } };
  } else {
    const newId = id ?? m.newFrameworkId();
    fw = {
      id: newId,
      info: { ...info, id: { value: newId } },
      roles: [],
      suppressed: new Set(),
      capabilities: new Set(),
      connected: false,
      removed: false,
      filters: new Map(),
      inverseFilters: new Map(),
      tasks: new Map(),
      completed: [],
      registeredTime: Date.now(),
    };
    m.frameworks.set(newId, fw);
  }
  fw.roles = rolesOf(fw.info);
  fw.capabilities = capabilitySet(fw.info);
  fw.suppressed = new Set(suppressed);
  m.attachStream(fw, stream);
  stream.send({
    type: "SUBSCRIBED",
    subscribed: {
      framework_id: { value: fw.id },
      heartbeat_interval_seconds: m.opts.heartbeatIntervalMs / 1000,
      master_info: m.info,
    },
  });
  stream.startHeartbeat(m.opts.heartbeatIntervalMs);
  m.log(`framework ${fw.id} (${info.name}) subscribed, stream ${streamId}`);
  if (resubscribing) {
    // As Mesos's UpdateFrameworkMessage on failover: agents resend the framework's pending
    // status updates at once instead of waiting out their retry backoff.
    const framework_info = m.frameworkInfoFor(fw);
    for (const a of m.agents.values()) {
      if (a.state === "active") sendToAgent(m, a, "update_framework", { framework_info });
    }
  }
  m.maintenance.sendInverseOffers(fw);
  m.allocateSoon();
}

function updateFramework(m: Master, fw: Framework, body: UpdateFrameworkBody): string | undefined {
  const info = body.framework_info;
  const suppressed = body.suppressed_roles ?? [];
  const err = validateFrameworkInfo(info, suppressed);
  if (err) return err;
  if (info.user !== fw.info.user) return "Updating 'FrameworkInfo.user' is unsupported";
  if ((info.checkpoint ?? false) !== (fw.info.checkpoint ?? false)) {
    return "Updating 'FrameworkInfo.checkpoint' is unsupported";
  }
  if ((info.principal ?? "") !== (fw.info.principal ?? "")) {
    return "Changing framework's principal is not allowed";
  }
  const newRoles = rolesOf(info);
  for (const o of [...m.offers.values()]) {
    if (o.frameworkId === fw.id && !newRoles.includes(o.role)) m.rescindOffer(o);
  }
  for (const role of fw.suppressed) {
    if (!suppressed.includes(role)) clearFilters(fw, role);
  }
  fw.info = { ...info, id: { value: fw.id } };
  fw.roles = newRoles;
  fw.capabilities = capabilitySet(info);
  fw.suppressed = new Set(suppressed);
  for (const a of m.agents.values()) {
    if (a.state === "active") {
      sendToAgent(m, a, "update_framework", { framework_info: m.frameworkInfoFor(fw) });
    }
  }
  m.allocateSoon();
  return undefined;
}

function clearFilters(fw: Framework, role: string): void {
  for (const [k, f] of [...fw.filters]) {
    if (k.endsWith(` ${role}`)) {
      clearTimeout(f.timer);
      fw.filters.delete(k);
    }
  }
}

function dispatch(m: Master, fw: Framework, call: SchedulerCall): void {
  switch (call.type) {
    case "TEARDOWN":
      m.removedFrameworks.add(fw.id);
      return m.removeFramework(fw);
    case "ACCEPT":
      return accept(m, fw, call.accept);
    case "DECLINE": {
      const filters = refuseSeconds(call.decline.filters?.refuse_seconds);
      for (const id of call.decline.offer_ids ?? []) {
        const o = m.offers.get(id.value);
        if (o && o.frameworkId === fw.id) m.releaseOffer(o, o.resources, filters);
      }
      return;
    }
    case "ACCEPT_INVERSE_OFFERS":
      return m.maintenance.respond(fw, call.accept_inverse_offers, "ACCEPT");
    case "DECLINE_INVERSE_OFFERS":
      return m.maintenance.respond(fw, call.decline_inverse_offers, "DECLINE");
    case "REVIVE": {
      const roles = call.revive?.roles?.length ? call.revive.roles : fw.roles;
      for (const r of roles) {
        if (!fw.roles.includes(r)) continue;
        fw.suppressed.delete(r);
        clearFilters(fw, r);
      }
      m.allocateSoon();
      return;
    }
    case "SUPPRESS": {
      const roles = call.suppress?.roles?.length ? call.suppress.roles : fw.roles;
      for (const r of roles) if (fw.roles.includes(r)) fw.suppressed.add(r);
      return;
    }
    case "KILL": {
      const taskId = call.kill.task_id.value;
      const t = fw.tasks.get(taskId);
      if (!t || isTerminalTaskState(t.state)) {
        const agentId = call.kill.agent_id?.value ?? t?.agentId;
        return reconcile(m, fw, [
          { task_id: { value: taskId }, ...(agentId ? { agent_id: { value: agentId } } : {}) },
        ]);
      }
      const agent = m.agents.get(t.agentId);
      if (!agent) return;
      if (agent.state !== "active") {
        agent.pendingKills.push({ frameworkId: fw.id, taskId });
        return;
      }
      sendToAgent(m, agent, "kill_task", {
        framework_id: fw.id,
        task_id: taskId,
        ...(call.kill.kill_policy ? { kill_policy: call.kill.kill_policy } : {}),
      });
      return;
    }
    case "SHUTDOWN": {
      const agent = m.agents.get(call.shutdown.agent_id.value);
      if (agent && agent.state === "active") {
        sendToAgent(m, agent, "shutdown_executor", {
          framework_id: fw.id,
          executor_id: call.shutdown.executor_id.value,
        });
      }
      return;
    }
    case "ACKNOWLEDGE":
      return m.acknowledge(
        fw,
        call.acknowledge.agent_id.value,
        call.acknowledge.task_id.value,
        call.acknowledge.uuid,
      );
    case "ACKNOWLEDGE_OPERATION_STATUS":
      return;
    case "RECONCILE":
      return reconcile(m, fw, call.reconcile.tasks ?? []);
    case "RECONCILE_OPERATIONS":
      for (const op of call.reconcile_operations.operations ?? []) {
        fw.stream?.send({
          type: "UPDATE_OPERATION_STATUS",
          update_operation_status: {
            status: {
              operation_id: op.operation_id,
              state: "OPERATION_UNKNOWN",
              ...(op.agent_id ? { agent_id: op.agent_id } : {}),
            },
          },
        });
      }
      return;
    case "MESSAGE": {
      const agent = m.agents.get(call.message.agent_id.value);
      if (agent && agent.state === "active") {
        sendToAgent(m, agent, "message", {
          framework_id: fw.id,
          executor_id: call.message.executor_id.value,
          data: call.message.data,
        });
      }
      return;
    }
    case "REQUEST":
      return;
    default:
      return;
  }
}

/** Filters.refuse_seconds: default 5 s, negative means default, capped at a year. */
export function refuseSeconds(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || v < 0) return v === Infinity ? 31_536_000 : 5;
  return Math.min(v, 31_536_000);
}
