// POST /api/v1/executor (reference 6.2-6.4): media-type checks, call validation as in
// executor/validation.cpp, SUBSCRIBE streams (with resubscription replay), UPDATE and
// MESSAGE relayed to the master.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExecutorCall, TaskStatus } from "../../../src/mesos/types/index.js";
import { isStatusUuid } from "../../../src/mesos/bytes.js";
import { encodeRecord } from "../../../src/mesos/recordio.js";
import { stringifyMesosJson } from "../../../src/mesos/json.js";
import { acceptsJson, readCall, sendText } from "../common/http.js";
import { ExecutorCallFields } from "../common/schema.js";
import type { Agent, Executor } from "./agent.js";
import { executorDefaults, frameworkDefaults } from "../common/defaults.js";

type Loose = {
  type?: string;
  executor_id: { value: string };
  framework_id: { value: string };
  subscribe?: {
    unacknowledged_tasks?: { task_id: { value: string } }[];
    unacknowledged_updates?: { status: TaskStatus }[];
  };
  update?: { status: TaskStatus };
  message?: { data: string };
};

function validate(call: Loose): string | undefined {
  const eid = call.executor_id.value;
  const fid = call.framework_id.value;
  if (call.type === undefined) return "Expecting 'type' to be present";
  if (call.type === "SUBSCRIBE" && !call.subscribe) return "Expecting 'subscribe' to be present";
  if (call.type === "MESSAGE" && !call.message) return "Expecting 'message' to be present";
  if (call.type === "UPDATE") {
    if (!call.update) return "Expecting 'update' to be present";
    const s = call.update.status;
    if (s.executor_id && s.executor_id.value !== eid) {
      return `ExecutorID in Call: ${eid} does not match ExecutorID in TaskStatus: ${s.executor_id.value}`;
    }
    if (s.source !== "SOURCE_EXECUTOR") {
      return `Received Call from executor ${eid} of framework ${fid} with invalid source, expecting 'SOURCE_EXECUTOR'`;
    }
    if (s.state === "TASK_STAGING") {
      return `Received TASK_STAGING from executor ${eid} of framework ${fid} which is not allowed`;
    }
    if (s.uuid === undefined) return "Expecting 'uuid' to be present";
    if (!isStatusUuid(s.uuid)) return `Invalid UUID for status update of task ${s.task_id.value}`;
  }
  return undefined;
}

export async function handleExecutorApi(
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const parsed = await readCall<ExecutorCall>(req, res, ExecutorCallFields);
  if (!parsed) return;
  const call = parsed as unknown as Loose;
  const invalid = validate(call);
  if (invalid) return sendText(res, 400, `Failed to validate executor::Call: ${invalid}`);
  if (call.type === "HEARTBEAT") return sendText(res, 202);
  if (call.type === "UNKNOWN") return sendText(res, 501, "Received an unexpected 'UNKNOWN' call");
  if (call.type === "SUBSCRIBE" && !acceptsJson(req)) {
    return sendText(
      res,
      406,
      "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'",
    );
  }
  if (agent.recovering && call.type !== "SUBSCRIBE") {
    return sendText(res, 503, "Agent has not finished recovery");
  }
  const fw = agent.frameworks.get(call.framework_id.value);
  if (!fw) return sendText(res, 400, "Framework cannot be found");
  const e = fw.executors.get(call.executor_id.value);
  if (!e || e.kind !== "custom") return sendText(res, 400, "Executor cannot be found");
  if (e.state === "terminated") return sendText(res, 400, "Executor cannot be found");
  if (call.type !== "SUBSCRIBE" && (e.state === "registering" || e.state === "launching")) {
    return sendText(res, 403, "Executor is not subscribed");
  }
  if (call.type === "SUBSCRIBE") return subscribe(agent, e, call, res);
  if (call.type === "UPDATE") {
    agent.receiveUpdate(e, call.update!.status);
    sendText(res, 202);
    // The agent has stored the update: tell the executor.
    agent.sendToExecutor(e, {
      type: "ACKNOWLEDGED",
      acknowledged: { task_id: call.update!.status.task_id, uuid: call.update!.status.uuid },
    });
    return;
  }
  if (call.type === "MESSAGE") {
    agent.forwardMessage(e, call.message!.data);
    return sendText(res, 202);
  }
  return sendText(res, 501, `Received an unexpected '${call.type}' call`);
}

function subscribe(agent: Agent, e: Executor, call: Loose, res: ServerResponse): void {
  const fw = agent.frameworks.get(e.frameworkId)!;
  if (e.stream && !e.stream.writableEnded) e.stream.end();
  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
  res.flushHeaders();
  e.stream = res;
  const wasRecovering = agent.recovering && e.state === "registering";
  if (e.state === "terminating") {
    res.write(encodeRecord(stringifyMesosJson({ type: "SHUTDOWN" })));
  }
  res.on("close", () => {
    if (e.stream === res) e.stream = undefined;
  });
  for (const t of e.timers.splice(0)) clearTimeout(t);
  if (e.state !== "terminating") e.state = "running";
  const send = (ev: object) => res.write(encodeRecord(stringifyMesosJson(ev)));
  send({
    type: "SUBSCRIBED",
    subscribed: {
      executor_info: executorDefaults(e.info),
      framework_info: frameworkDefaults(fw.info),
      agent_info: agent.agentInfo(),
      container_id: { value: e.containerId },
    },
  });
  const sub = call.subscribe ?? {};
  // Replay the executor's unacknowledged updates (duplicates are dropped by uuid).
  for (const u of sub.unacknowledged_updates ?? []) {
    const s = u.status;
    if (s.source !== "SOURCE_EXECUTOR" || !s.uuid || !isStatusUuid(s.uuid)) continue;
    agent.receiveUpdate(e, s);
    send({ type: "ACKNOWLEDGED", acknowledged: { task_id: s.task_id, uuid: s.uuid } });
  }
  if (wasRecovering) {
    // Tasks still STAGING that the executor does not list never reached it.
    const listed = new Set((sub.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
    const pa = fw.info.capabilities?.some((c) => c.type === "PARTITION_AWARE");
    for (const t of e.tasks.values()) {
      if (
        t.state !== "TASK_STAGING" ||
        t.phase !== "delivered" ||
        listed.has(t.info.task_id.value)
      ) {
        continue;
      }
      agent.agentUpdate(
        e,
        t.info.task_id.value,
        pa ? "TASK_DROPPED" : "TASK_LOST",
        "REASON_AGENT_RESTARTED",
        "Task was never delivered to the executor",
      );
    }
    agent.executorResubscribed();
  }
  agent.deliverQueued(e);
  const hb = agent.opts.executorHeartbeatMs ?? 30 * 60_000;
  if (e.heartbeat) clearInterval(e.heartbeat);
  e.heartbeat = setInterval(() => agent.sendToExecutor(e, { type: "HEARTBEAT" }), hb);
  e.heartbeat.unref();
}
