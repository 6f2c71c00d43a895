// include/mesos/v1/scheduler/scheduler.proto as JSON: the Call envelope and Event union.
import type {
  AgentID,
  Base64,
  ExecutorID,
  Filters,
  FrameworkID,
  FrameworkInfo,
  InverseOffer,
  KillPolicy,
  MasterInfo,
  Offer,
  OfferID,
  Operation,
  OperationID,
  OperationStatus,
  Request,
  TaskID,
  TaskStatus,
} from "./common.js";

export const SCHEDULER_CALL_TYPES = [
  "SUBSCRIBE",
  "TEARDOWN",
  "ACCEPT",
  "DECLINE",
  "ACCEPT_INVERSE_OFFERS",
  "DECLINE_INVERSE_OFFERS",
  "REVIVE",
  "KILL",
  "SHUTDOWN",
  "ACKNOWLEDGE",
  "ACKNOWLEDGE_OPERATION_STATUS",
  "RECONCILE",
  "RECONCILE_OPERATIONS",
  "MESSAGE",
  "REQUEST",
  "SUPPRESS",
  "UPDATE_FRAMEWORK",
] as const;
export type SchedulerCallType = (typeof SCHEDULER_CALL_TYPES)[number];

export interface SubscribeBody {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
  offer_constraints?: Record<string, unknown>;
}
export interface AcceptBody {
  offer_ids: OfferID[];
  operations?: Operation[];
  filters?: Filters;
}
export interface DeclineBody {
  offer_ids: OfferID[];
  filters?: Filters;
}
export interface AcceptInverseOffersBody {
  inverse_offer_ids: OfferID[];
  filters?: Filters;
}
export interface DeclineInverseOffersBody {
  inverse_offer_ids: OfferID[];
  filters?: Filters;
}
export interface ReviveBody {
  roles?: string[];
}
export interface SuppressBody {
  roles?: string[];
}
export interface KillBody {
  task_id: TaskID;
  agent_id?: AgentID;
  kill_policy?: KillPolicy;
}
export interface ShutdownBody {
  executor_id: ExecutorID;
  agent_id: AgentID;
}
export interface AcknowledgeBody {
  agent_id: AgentID;
  task_id: TaskID;
  uuid: Base64;
}
export interface AcknowledgeOperationStatusBody {
  agent_id?: AgentID;
  resource_provider_id?: { value: string };
  uuid: Base64;
  operation_id: OperationID;
}
export interface ReconcileBody {
  tasks?: { task_id: TaskID; agent_id?: AgentID }[];
}
export interface ReconcileOperationsBody {
  operations?: { operation_id: OperationID; agent_id?: AgentID }[];
}
export interface MessageBody {
  agent_id: AgentID;
  executor_id: ExecutorID;
  data: Base64;
}
export interface RequestBody {
  requests: Request[];
}
export interface UpdateFrameworkBody {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
  offer_constraints?: Record<string, unknown>;
}

type WithFramework = { framework_id?: FrameworkID };

export type SchedulerCall = WithFramework &
  (
    | { type: "SUBSCRIBE"; subscribe: SubscribeBody }
    | { type: "TEARDOWN" }
    | { type: "ACCEPT"; accept: AcceptBody }
    | { type: "DECLINE"; decline: DeclineBody }
    | { type: "ACCEPT_INVERSE_OFFERS"; accept_inverse_offers: AcceptInverseOffersBody }
    | { type: "DECLINE_INVERSE_OFFERS"; decline_inverse_offers: DeclineInverseOffersBody }
    | { type: "REVIVE"; revive?: ReviveBody }
    | { type: "KILL"; kill: KillBody }
    | { type: "SHUTDOWN"; shutdown: ShutdownBody }
    | { type: "ACKNOWLEDGE"; acknowledge: AcknowledgeBody }
    | {
        type: "ACKNOWLEDGE_OPERATION_STATUS";
        acknowledge_operation_status: AcknowledgeOperationStatusBody;
      }
    | { type: "RECONCILE"; reconcile: ReconcileBody }
    | { type: "RECONCILE_OPERATIONS"; reconcile_operations: ReconcileOperationsBody }
    | { type: "MESSAGE"; message: MessageBody }
    | { type: "REQUEST"; request: RequestBody }
    | { type: "SUPPRESS"; suppress?: SuppressBody }
    | { type: "UPDATE_FRAMEWORK"; update_framework: UpdateFrameworkBody }
  );

export const SCHEDULER_EVENT_TYPES = [
  "SUBSCRIBED",
  "OFFERS",
  "INVERSE_OFFERS",
  "RESCIND",
  "RESCIND_INVERSE_OFFER",
  "UPDATE",
  "UPDATE_OPERATION_STATUS",
  "MESSAGE",
  "FAILURE",
  "ERROR",
  "HEARTBEAT",
] as const;
export type SchedulerEventType = (typeof SCHEDULER_EVENT_TYPES)[number];

export interface SubscribedEvent {
  framework_id: FrameworkID;
  heartbeat_interval_seconds?: number;
  master_info?: MasterInfo;
}
export interface OffersEvent {
  offers?: Offer[];
}
export interface InverseOffersEvent {
  inverse_offers?: InverseOffer[];
}
export interface RescindEvent {
  offer_id: OfferID;
}
export interface RescindInverseOfferEvent {
  inverse_offer_id: OfferID;
}
export interface UpdateEvent {
  status: TaskStatus;
}
export interface UpdateOperationStatusEvent {
  status: OperationStatus;
}
export interface SchedulerMessageEvent {
  agent_id: AgentID;
  executor_id: ExecutorID;
  data: Base64;
}
export interface FailureEvent {
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  status?: number;
}
export interface ErrorEvent {
  message: string;
}

export type SchedulerEvent =
  | { type: "SUBSCRIBED"; subscribed: SubscribedEvent }
  | { type: "OFFERS"; offers: OffersEvent }
  | { type: "INVERSE_OFFERS"; inverse_offers: InverseOffersEvent }
  | { type: "RESCIND"; rescind: RescindEvent }
  | { type: "RESCIND_INVERSE_OFFER"; rescind_inverse_offer: RescindInverseOfferEvent }
  | { type: "UPDATE"; update: UpdateEvent }
  | { type: "UPDATE_OPERATION_STATUS"; update_operation_status: UpdateOperationStatusEvent }
  | { type: "MESSAGE"; message: SchedulerMessageEvent }
  | { type: "FAILURE"; failure: FailureEvent }
  | { type: "ERROR"; error: ErrorEvent }
  | { type: "HEARTBEAT" };

/** The body key of a call or event: the lower-case type name. */
export function bodyKey(type: string): string {
  return type.toLowerCase();
}
