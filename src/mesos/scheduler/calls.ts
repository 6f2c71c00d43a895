// Builders for every scheduler call of the v1 API (reference 3.5). They return the call
// body only; the client adds `framework_id` and the `Mesos-Stream-Id` header. Bodies that
// Mesos requires to be present are always present (`{}` rather than omitted).
import type {
  AgentID,
  ExecutorID,
  Filters,
  FrameworkInfo,
  KillPolicy,
  OfferID,
  Operation,
  OperationID,
  Request,
  TaskID,
  TaskStatus,
} from "../types/common.js";
import type { SchedulerCall } from "../types/scheduler.js";
import { isStatusUuid } from "../bytes.js";
import { MesosProtocolError } from "../errors.js";

const id = (value: string | { value: string }) =>
  typeof value === "string" ? { value } : { value: value.value };

type IdLike = string | { value: string };

export function subscribe(frameworkInfo: FrameworkInfo, suppressedRoles?: string[]): SchedulerCall {
  return {
    type: "SUBSCRIBE",
    subscribe: {
      framework_info: frameworkInfo,
      ...(suppressedRoles ? { suppressed_roles: suppressedRoles } : {}),
    },
  };
}

export function teardown(): SchedulerCall {
  return { type: "TEARDOWN" };
}

export function accept(
  offerIds: IdLike[],
  operations: Operation[],
  filters?: Filters,
): SchedulerCall {
  return {
    type: "ACCEPT",
    accept: {
      offer_ids: offerIds.map(id) as OfferID[],
      operations,
      ...(filters ? { filters } : {}),
    },
  };
}

export function decline(offerIds: IdLike[], filters?: Filters): SchedulerCall {
  return {
    type: "DECLINE",
    decline: { offer_ids: offerIds.map(id) as OfferID[], ...(filters ? { filters } : {}) },
  };
}

export function acceptInverseOffers(inverseOfferIds: IdLike[], filters?: Filters): SchedulerCall {
  return {
    type: "ACCEPT_INVERSE_OFFERS",
    accept_inverse_offers: {
      inverse_offer_ids: inverseOfferIds.map(id) as OfferID[],
      ...(filters ? { filters } : {}),
    },
  };
}

export function declineInverseOffers(inverseOfferIds: IdLike[], filters?: Filters): SchedulerCall {
  return {
    type: "DECLINE_INVERSE_OFFERS",
    decline_inverse_offers: {
      inverse_offer_ids: inverseOfferIds.map(id) as OfferID[],
      ...(filters ? { filters } : {}),
    },
  };
}

/** Un-suppress and clear filters for the roles (all subscribed roles when omitted). */
export function revive(roles?: string[]): SchedulerCall {
  return { type: "REVIVE", ...(roles && roles.length ? { revive: { roles } } : {}) };
}

/** Stop offers for the roles (all subscribed roles when omitted). */
export function suppress(roles?: string[]): SchedulerCall {
  return { type: "SUPPRESS", ...(roles && roles.length ? { suppress: { roles } } : {}) };
}

export function kill(taskId: IdLike, agentId?: IdLike, killPolicy?: KillPolicy): SchedulerCall {
  return {
    type: "KILL",
    kill: {
      task_id: id(taskId) as TaskID,
      ...(agentId ? { agent_id: id(agentId) as AgentID } : {}),
      ...(killPolicy ? { kill_policy: killPolicy } : {}),
    },
  };
}

export function shutdown(executorId: IdLike, agentId: IdLike): SchedulerCall {
  return {
    type: "SHUTDOWN",
    shutdown: { executor_id: id(executorId) as ExecutorID, agent_id: id(agentId) as AgentID },
  };
}

/**
 * Acknowledges a status update. Only updates that carry a uuid may be acknowledged; the
 * uuid is echoed exactly as received.
 */
export function acknowledge(status: TaskStatus): SchedulerCall {
  if (!status.uuid) {
    throw new MesosProtocolError(
      `refusing to acknowledge ${status.task_id.value} ${status.state}: the update has no uuid`,
    );
  }
  if (!isStatusUuid(status.uuid)) {
    throw new MesosProtocolError(
      `refusing to acknowledge ${status.task_id.value}: uuid is not 16 bytes of base64`,
    );
  }
  if (!status.agent_id) {
    throw new MesosProtocolError(`refusing to acknowledge ${status.task_id.value}: no agent_id`);
  }
  return {
    type: "ACKNOWLEDGE",
    acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
  };
}

export function acknowledgeOperationStatus(
  agentId: IdLike | undefined,
  operationId: IdLike,
  uuid: string,
): SchedulerCall {
  return {
    type: "ACKNOWLEDGE_OPERATION_STATUS",
    acknowledge_operation_status: {
      ...(agentId ? { agent_id: id(agentId) as AgentID } : {}),
      operation_id: id(operationId) as OperationID,
      uuid,
    },
  };
}

/** Explicit reconciliation of the listed tasks; an empty list is implicit reconciliation. */
export function reconcile(tasks: { taskId: IdLike; agentId?: IdLike }[] = []): SchedulerCall {
  return {
    type: "RECONCILE",
    reconcile: {
      tasks: tasks.map((t) => ({
        task_id: id(t.taskId) as TaskID,
        ...(t.agentId ? { agent_id: id(t.agentId) as AgentID } : {}),
      })),
    },
  };
}

export function reconcileOperations(
  operations: { operationId: IdLike; agentId?: IdLike }[] = [],
): SchedulerCall {
  return {
    type: "RECONCILE_OPERATIONS",
    reconcile_operations: {
      operations: operations.map((o) => ({
        operation_id: id(o.operationId) as OperationID,
        ...(o.agentId ? { agent_id: id(o.agentId) as AgentID } : {}),
      })),
    },
  };
}

/** Opaque bytes to an executor (base64 already, or raw bytes to encode). */
export function message(
  agentId: IdLike,
  executorId: IdLike,
  data: Uint8Array | string,
): SchedulerCall {
  return {
    type: "MESSAGE",
    message: {
      agent_id: id(agentId) as AgentID,
      executor_id: id(executorId) as ExecutorID,
      data: typeof data === "string" ? data : Buffer.from(data).toString("base64"),
    },
  };
}

export function request(requests: Request[]): SchedulerCall {
  return { type: "REQUEST", request: { requests } };
}

export function updateFramework(
  frameworkInfo: FrameworkInfo,
  suppressedRoles?: string[],
): SchedulerCall {
  return {
    type: "UPDATE_FRAMEWORK",
    update_framework: {
      framework_info: frameworkInfo,
      ...(suppressedRoles ? { suppressed_roles: suppressedRoles } : {}),
    },
  };
}
