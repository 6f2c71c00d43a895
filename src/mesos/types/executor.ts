// include/mesos/v1/executor/executor.proto as JSON.
import type {
  AgentInfo,
  Base64,
  ContainerID,
  ExecutorID,
  ExecutorInfo,
  FrameworkID,
  FrameworkInfo,
  KillPolicy,
  TaskGroupInfo,
  TaskID,
  TaskInfo,
  TaskStatus,
} from "./common.js";

export const EXECUTOR_CALL_TYPES = ["SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT"] as const;
export type ExecutorCallType = (typeof EXECUTOR_CALL_TYPES)[number];

export interface ExecutorUpdateBody {
  status: TaskStatus;
}

export interface ExecutorSubscribeBody {
  unacknowledged_tasks?: TaskInfo[];
  unacknowledged_updates?: ExecutorUpdateBody[];
}

type Envelope = { executor_id: ExecutorID; framework_id: FrameworkID };

export type ExecutorCall = Envelope &
  (
    | { type: "SUBSCRIBE"; subscribe: ExecutorSubscribeBody }
    | { type: "UPDATE"; update: ExecutorUpdateBody }
    | { type: "MESSAGE"; message: { data: Base64 } }
    | { type: "HEARTBEAT" }
  );

export const EXECUTOR_EVENT_TYPES = [
  "SUBSCRIBED",
  "LAUNCH",
  "LAUNCH_GROUP",
  "KILL",
  "ACKNOWLEDGED",
  "MESSAGE",
  "SHUTDOWN",
  "ERROR",
  "HEARTBEAT",
] as const;
export type ExecutorEventType = (typeof EXECUTOR_EVENT_TYPES)[number];

export interface ExecutorSubscribedEvent {
  executor_info: ExecutorInfo;
  framework_info: FrameworkInfo;
  agent_info: AgentInfo;
  container_id?: ContainerID;
}

export type ExecutorEvent =
  | { type: "SUBSCRIBED"; subscribed: ExecutorSubscribedEvent }
  | { type: "LAUNCH"; launch: { task: TaskInfo } }
  | { type: "LAUNCH_GROUP"; launch_group: { task_group: TaskGroupInfo } }
  | { type: "KILL"; kill: { task_id: TaskID; kill_policy?: KillPolicy } }
  | { type: "ACKNOWLEDGED"; acknowledged: { task_id: TaskID; uuid: Base64 } }
  | { type: "MESSAGE"; message: { data: Base64 } }
  | { type: "SHUTDOWN" }
  | { type: "ERROR"; error: { message: string } }
  | { type: "HEARTBEAT" };
