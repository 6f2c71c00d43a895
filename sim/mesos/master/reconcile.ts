// RECONCILE (reference 5.5): implicit = every known task; explicit = the six cases.
// Answers are SOURCE_MASTER, REASON_RECONCILIATION, without uuid, data or message.
import type { TaskID, AgentID, TaskStatus } from "../../../src/mesos/types/index.js";
import type { Framework, Task } from "./model.js";
import type { Master } from "./master.js";

export function reconcile(
  m: Master,
  fw: Framework,
  tasks: { task_id: TaskID; agent_id?: AgentID }[],
): void {
  const send = (status: TaskStatus) => {
    if (fw.connected) fw.stream?.send({ type: "UPDATE", update: { status } });
  };
  const known = (t: Task): TaskStatus => {
    const s: TaskStatus = {
      task_id: t.info.task_id,
      state: t.state,
      source: "SOURCE_MASTER",
      reason: "REASON_RECONCILIATION",
      agent_id: { value: t.agentId },
      timestamp: Date.now() / 1000,
    };
    if (t.executorId) s.executor_id = { value: t.executorId };
    if (t.status?.healthy !== undefined) s.healthy = t.status.healthy;
    if (t.unreachableTime !== undefined) s.unreachable_time = { nanoseconds: t.unreachableTime };
    return s;
  };
  if (tasks.length === 0) {
    for (const t of fw.tasks.values()) send(known(t));
    return;
  }
  const pa = m.partitionAware(fw);
  for (const { task_id, agent_id } of tasks) {
    const t = fw.tasks.get(task_id.value);
    if (t && (!agent_id || agent_id.value === t.agentId)) {
      send(known(t));
      continue;
    }
    const base = {
      task_id,
      source: "SOURCE_MASTER" as const,
      reason: "REASON_RECONCILIATION",
      timestamp: Date.now() / 1000,
      ...(agent_id ? { agent_id } : {}),
    };
    const lost = (state: TaskStatus["state"]) => (pa ? state : "TASK_LOST");
    if (agent_id) {
      const a = m.agents.get(agent_id.value);
      if (a?.state === "recovering") continue; // case 2: no answer while recovering
      if (a && (a.state === "active" || a.state === "disconnected")) {
        send({ ...base, state: lost("TASK_GONE") });
      } else if (a?.state === "unreachable") {
        send({
          ...base,
          state: lost("TASK_UNREACHABLE"),
          ...(a.unreachableTime !== undefined
            ? { unreachable_time: { nanoseconds: a.unreachableTime } }
            : {}),
        });
      } else if (m.goneAgents.has(agent_id.value)) {
        send({ ...base, state: lost("TASK_GONE_BY_OPERATOR") });
      } else {
        send({ ...base, state: lost("TASK_UNKNOWN") });
      }
      continue;
    }
    // No agent given: silent while any agent is still recovering, else unknown.
    if ([...m.agents.values()].some((a) => a.state === "recovering")) continue;
    send({ ...base, state: lost("TASK_UNKNOWN") });
  }
}
