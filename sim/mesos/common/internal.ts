// The agent <-> master protocol of the simulator. It is internal (Mesos' own is
// libprocess messages, not documented), JSON over HTTP in both directions:
//
//   agent -> master  POST /internal/agent/<op>   register | status | executor_exited | message
//   master -> agent  POST /internal/master/<op>  run_task | kill_task | shutdown_executor |
//                                                 shutdown_framework | ack | message |
//                                                 checkpoint_resources | update_framework | shutdown
//   master -> agent  GET  /internal/ping?master=<id>  (health check; 200 "pong")
//
// Every request carries `X-Sim-Master-Id` / agent id so stale peers are recognised.
import type {
  AgentInfo,
  ExecutorInfo,
  FrameworkInfo,
  KillPolicy,
  Resource,
  TaskGroupInfo,
  TaskInfo,
  TaskStatus,
} from "../../../src/mesos/types/index.js";

export interface RegisterRequest {
  agent_info: AgentInfo;
  /** "ip:port" of the agent's HTTP server. */
  endpoint: string;
  /** Full total including checkpointed reservations and volumes (refinement format). */
  resources: Resource[];
  frameworks: FrameworkInfo[];
  executors: { framework_id: string; executor_info: ExecutorInfo }[];
  tasks: {
    framework_id: string;
    task: TaskInfo;
    executor_id?: string;
    state: TaskStatus["state"];
    status?: TaskStatus;
    role?: string;
  }[];
  /** Completed frameworks the agent still knows nothing about are not listed. */
}

export interface RegisterResponse {
  agent_id: string;
  master_id: string;
  ping_interval_ms: number;
  ping_timeout_ms: number;
  max_ping_timeouts: number;
  /** Tasks the master wants killed (e.g. frameworks removed while the agent was away). */
  kill_frameworks?: string[];
}

export interface StatusMessage {
  agent_id: string;
  framework_id: string;
  status: TaskStatus;
}

export interface ExecutorExitedMessage {
  agent_id: string;
  framework_id: string;
  executor_id: string;
  status: number;
}

export interface ExecutorMessage {
  agent_id: string;
  framework_id: string;
  executor_id: string;
  data: string;
}

export interface RunTaskMessage {
  framework_info: FrameworkInfo;
  task?: TaskInfo;
  task_group?: TaskGroupInfo;
  executor?: ExecutorInfo;
}

export interface KillTaskMessage {
  framework_id: string;
  task_id: string;
  kill_policy?: KillPolicy;
}

export interface AckMessage {
  framework_id: string;
  task_id: string;
  uuid: string;
}

export interface CheckpointResourcesMessage {
  resources: Resource[];
  /** Persistence ids (with role) whose data must be deleted. */
  destroyed_volumes?: { role: string; id: string }[];
}
