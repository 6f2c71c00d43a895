// Mesos v1 protobuf messages as Mesos maps them to JSON (include/mesos/v1/mesos.proto):
// snake_case keys, enum values as their names, `bytes` as base64 strings, IDs as
// `{"value": ...}` wrappers, 64-bit integers as bare JSON numbers (see Int64).
// Optional fields are optional here; unknown fields coming from Mesos are tolerated.

/** A 64-bit integer: `bigint` when the JSON number did not fit a double exactly. */
export type Int64 = number | bigint;

/** Standard base64 (RFC 4648, with padding) of a protobuf `bytes` field. */
export type Base64 = string;

export interface FrameworkID {
  value: string;
}
export interface OfferID {
  value: string;
}
export interface AgentID {
  value: string;
}
export interface TaskID {
  value: string;
}
export interface ExecutorID {
  value: string;
}
export interface OperationID {
  value: string;
}
export interface ResourceProviderID {
  value: string;
}
export interface ContainerID {
  value: string;
  parent?: ContainerID;
}
export interface UUID {
  value: Base64;
}

export interface TimeInfo {
  nanoseconds: Int64;
}
export interface DurationInfo {
  nanoseconds: Int64;
}

export interface Address {
  hostname?: string;
  ip?: string;
  port: number;
}

export interface URL {
  scheme: string;
  address: Address;
  path?: string;
  query?: Parameter[];
  fragment?: string;
}

export interface Parameter {
  key: string;
  value: string;
}

export interface Label {
  key: string;
  value?: string;
}
export interface Labels {
  labels?: Label[];
}

export interface DomainInfo {
  fault_domain?: {
    region: { name: string };
    zone: { name: string };
  };
}

export const VALUE_TYPES = ["SCALAR", "RANGES", "SET", "TEXT"] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export interface Scalar {
  value: number;
}
export interface Range {
  begin: Int64;
  end: Int64;
}
export interface Ranges {
  range?: Range[];
}
export interface ValueSet {
  item?: string[];
}
export interface Text {
  value: string;
}

export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

export interface AllocationInfo {
  role?: string;
}

export const RESERVATION_TYPES = ["UNKNOWN", "STATIC", "DYNAMIC"] as const;
export type ReservationType = (typeof RESERVATION_TYPES)[number];

export interface ReservationInfo {
  type?: ReservationType;
  role?: string;
  principal?: string;
  labels?: Labels;
}

export const DISK_SOURCE_TYPES = ["UNKNOWN", "PATH", "MOUNT", "BLOCK", "RAW"] as const;
export type DiskSourceType = (typeof DISK_SOURCE_TYPES)[number];

export interface DiskInfo {
  persistence?: { id: string; principal?: string };
  volume?: Volume;
  source?: {
    type: DiskSourceType;
    path?: { root?: string };
    mount?: { root?: string };
    id?: string;
    vendor?: string;
    profile?: string;
    metadata?: Labels;
  };
}

export interface Volume {
  container_path: string;
  host_path?: string;
  mode: "RW" | "RO";
  source?: Record<string, unknown>;
}

export interface Resource {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  allocation_info?: AllocationInfo;
  /** Pre-refinement format: the reserving role ("*" = unreserved). */
  role?: string;
  /** Pre-refinement format: present (possibly `{}`) for dynamic reservations. */
  reservation?: ReservationInfo;
  /** Refinement format: the reservation stack, oldest first. */
  reservations?: ReservationInfo[];
  disk?: DiskInfo;
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
  provider_id?: ResourceProviderID;
}

export const FRAMEWORK_CAPABILITIES = [
  "UNKNOWN",
  "REVOCABLE_RESOURCES",
  "TASK_KILLING_STATE",
  "GPU_RESOURCES",
  "SHARED_RESOURCES",
  "PARTITION_AWARE",
  "MULTI_ROLE",
  "RESERVATION_REFINEMENT",
  "REGION_AWARE",
] as const;
export type FrameworkCapabilityType = (typeof FRAMEWORK_CAPABILITIES)[number];

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: FrameworkID;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: { type: FrameworkCapabilityType }[];
  labels?: Labels;
  offer_filters?: Record<string, unknown>;
}

export interface MasterInfo {
  id: string;
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  domain?: DomainInfo;
  capabilities?: { type: string }[];
}

export interface AgentInfo {
  hostname: string;
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
}

export interface Environment {
  variables?: {
    name: string;
    type?: "UNKNOWN" | "VALUE" | "SECRET";
    value?: string;
    secret?: Record<string, unknown>;
  }[];
}

export interface CommandURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  uris?: CommandURI[];
  environment?: Environment;
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface ContainerInfo {
  type: "DOCKER" | "MESOS";
  volumes?: Volume[];
  hostname?: string;
  docker?: Record<string, unknown>;
  mesos?: Record<string, unknown>;
  network_infos?: Record<string, unknown>[];
  [extra: string]: unknown;
}

export interface KillPolicy {
  grace_period?: DurationInfo;
}

export interface HealthCheck {
  type?: "UNKNOWN" | "COMMAND" | "HTTP" | "TCP";
  command?: CommandInfo;
  http?: {
    scheme?: string;
    port: number;
    path?: string;
    statuses?: number[];
    protocol?: string;
  };
  tcp?: { port: number; protocol?: string };
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
}

export interface ExecutorInfo {
  type?: "UNKNOWN" | "DEFAULT" | "CUSTOM";
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
  source?: string;
  data?: Base64;
  shutdown_grace_period?: DurationInfo;
  labels?: Labels;
  discovery?: Record<string, unknown>;
}

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  health_check?: HealthCheck;
  check?: Record<string, unknown>;
  kill_policy?: KillPolicy;
  data?: Base64;
  labels?: Labels;
  discovery?: Record<string, unknown>;
  max_completion_time?: DurationInfo;
}

export interface TaskGroupInfo {
  tasks: TaskInfo[];
}

export const TASK_STATES = [
  "TASK_STAGING",
  "TASK_STARTING",
  "TASK_RUNNING",
  "TASK_KILLING",
  "TASK_FINISHED",
  "TASK_FAILED",
  "TASK_KILLED",
  "TASK_ERROR",
  "TASK_LOST",
  "TASK_DROPPED",
  "TASK_UNREACHABLE",
  "TASK_GONE",
  "TASK_GONE_BY_OPERATOR",
  "TASK_UNKNOWN",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which Mesos releases the task's resources (TASK_LOST and TASK_GONE_BY_OPERATOR may still come back). */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  "TASK_FINISHED",
  "TASK_FAILED",
  "TASK_KILLED",
  "TASK_ERROR",
  "TASK_LOST",
  "TASK_DROPPED",
  "TASK_GONE",
  "TASK_GONE_BY_OPERATOR",
]);

export function isTerminalTaskState(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

export const TASK_STATUS_SOURCES = ["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"] as const;
export type TaskStatusSource = (typeof TASK_STATUS_SOURCES)[number];

/** Reasons are an open set upstream; the common ones are listed for editors, any string is accepted. */
export type TaskStatusReason =
  | "REASON_COMMAND_EXECUTOR_FAILED"
  | "REASON_CONTAINER_LAUNCH_FAILED"
  | "REASON_CONTAINER_LIMITATION"
  | "REASON_CONTAINER_LIMITATION_DISK"
  | "REASON_CONTAINER_LIMITATION_MEMORY"
  | "REASON_CONTAINER_PREEMPTED"
  | "REASON_CONTAINER_UPDATE_FAILED"
  | "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
  | "REASON_EXECUTOR_REREGISTRATION_TIMEOUT"
  | "REASON_EXECUTOR_TERMINATED"
  | "REASON_EXECUTOR_UNREGISTERED"
  | "REASON_FRAMEWORK_REMOVED"
  | "REASON_GC_ERROR"
  | "REASON_INVALID_FRAMEWORKID"
  | "REASON_INVALID_OFFERS"
  | "REASON_IO_SWITCHBOARD_EXITED"
  | "REASON_MASTER_DISCONNECTED"
  | "REASON_MAX_COMPLETION_TIME_REACHED"
  | "REASON_RECONCILIATION"
  | "REASON_RESOURCES_UNKNOWN"
  | "REASON_AGENT_DISCONNECTED"
  | "REASON_AGENT_DRAINING"
  | "REASON_AGENT_REMOVED"
  | "REASON_AGENT_REMOVED_BY_OPERATOR"
  | "REASON_AGENT_REREGISTERED"
  | "REASON_AGENT_RESTARTED"
  | "REASON_AGENT_UNKNOWN"
  | "REASON_TASK_CHECK_STATUS_UPDATED"
  | "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
  | "REASON_TASK_GROUP_INVALID"
  | "REASON_TASK_GROUP_UNAUTHORIZED"
  | "REASON_TASK_INVALID"
  | "REASON_TASK_KILLED_DURING_LAUNCH"
  | "REASON_TASK_UNAUTHORIZED"
  | "REASON_TASK_UNKNOWN"
  | (string & {});

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState;
  message?: string;
  source?: TaskStatusSource;
  reason?: TaskStatusReason;
  data?: Base64;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  timestamp?: number;
  uuid?: Base64;
  healthy?: boolean;
  check_status?: Record<string, unknown>;
  labels?: Labels;
  container_status?: Record<string, unknown>;
  unreachable_time?: TimeInfo;
  limitation?: Record<string, unknown>;
}

export interface Filters {
  refuse_seconds?: number;
}

export interface Unavailability {
  start: TimeInfo;
  duration?: DurationInfo;
}

export interface MachineID {
  hostname?: string;
  ip?: string;
}

export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  url?: URL;
  domain?: DomainInfo;
  resources?: Resource[];
  attributes?: Attribute[];
  executor_ids?: ExecutorID[];
  unavailability?: Unavailability;
  allocation_info?: AllocationInfo;
}

export interface InverseOffer {
  id: OfferID;
  url?: URL;
  framework_id: FrameworkID;
  agent_id?: AgentID;
  unavailability: Unavailability;
  resources?: Resource[];
}

export const OPERATION_TYPES = [
  "UNKNOWN",
  "LAUNCH",
  "LAUNCH_GROUP",
  "RESERVE",
  "UNRESERVE",
  "CREATE",
  "DESTROY",
  "GROW_VOLUME",
  "SHRINK_VOLUME",
  "CREATE_DISK",
  "DESTROY_DISK",
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export type Operation = { id?: OperationID } & (
  | { type: "LAUNCH"; launch: { task_infos: TaskInfo[] } }
  | { type: "LAUNCH_GROUP"; launch_group: { executor: ExecutorInfo; task_group: TaskGroupInfo } }
  | { type: "RESERVE"; reserve: { resources: Resource[]; source?: Resource[] } }
  | { type: "UNRESERVE"; unreserve: { resources: Resource[] } }
  | { type: "CREATE"; create: { volumes: Resource[] } }
  | { type: "DESTROY"; destroy: { volumes: Resource[] } }
  | { type: "GROW_VOLUME"; grow_volume: { volume: Resource; addition: Resource } }
  | { type: "SHRINK_VOLUME"; shrink_volume: { volume: Resource; subtract: Scalar } }
  | { type: "CREATE_DISK"; create_disk: Record<string, unknown> }
  | { type: "DESTROY_DISK"; destroy_disk: Record<string, unknown> }
);

export const OPERATION_STATES = [
  "OPERATION_UNSUPPORTED",
  "OPERATION_PENDING",
  "OPERATION_FINISHED",
  "OPERATION_FAILED",
  "OPERATION_ERROR",
  "OPERATION_DROPPED",
  "OPERATION_UNREACHABLE",
  "OPERATION_GONE_BY_OPERATOR",
  "OPERATION_RECOVERING",
  "OPERATION_UNKNOWN",
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export interface OperationStatus {
  operation_id?: OperationID;
  state: OperationState;
  message?: string;
  converted_resources?: Resource[];
  uuid?: UUID;
  agent_id?: AgentID;
  resource_provider_id?: ResourceProviderID;
}

export interface Request {
  agent_id?: AgentID;
  resources?: Resource[];
}
