// Checks the Mesos events the framework consumes before anything acts on them: one small
// schema per event type, covering (deeply) the fields the scheduler and the executor read,
// so that a malformed but well-framed event becomes one InvalidEventError naming its type
// and the first bad field, never a TypeError deep inside a handler. Fields nobody reads are
// not checked (Mesos adds fields over time) and pass through untouched: the event handed on
// is the decoded object itself, not a copy.
//
// OFFERS and INVERSE_OFFERS are checked offer by offer: an offer left unanswered holds its
// agent's resources at the master, so the valid offers of a batch are still handed on and
// only the bad ones are dropped (and reported).
import { z } from "zod";
import { isStatusUuid } from "./bytes.js";
import { InvalidEventError } from "./errors.js";
import type { ExecutorEvent, ExecutorEventType } from "./types/executor.js";
import type { SchedulerEvent, SchedulerEventType } from "./types/scheduler.js";

const id = z.object({ value: z.string().min(1) });
/** Int64 fields decode to bigint beyond 2^53 (json.ts). */
const int64 = z.union([z.number(), z.bigint()]);

// ---- shared pieces -------------------------------------------------------------------

const labels = z.object({
  labels: z.array(z.object({ key: z.string(), value: z.string().optional() })).optional(),
});

// What resources.ts reads: name, type, scalar value, the reservation stack and its labels.
const resource = z.object({
  name: z.string().min(1),
  type: z.string().min(1),
  scalar: z.object({ value: z.number() }).optional(),
  reservations: z
    .array(
      z.object({
        type: z.string().optional(),
        role: z.string().optional(),
        labels: labels.optional(),
      }),
    )
    .optional(),
});

const attribute = z.object({
  name: z.string().min(1),
  type: z.string(),
  text: z.object({ value: z.string().optional() }).optional(),
  scalar: z.object({ value: int64 }).optional(),
  set: z.object({ item: z.array(z.string()).optional() }).optional(),
  ranges: z
    .object({ range: z.array(z.object({ begin: int64, end: int64 })).optional() })
    .optional(),
});

// What the agent registry and the node-task runner read of an offer.
const offer = z.object({
  id,
  agent_id: id,
  hostname: z.string(),
  url: z
    .object({ address: z.object({ hostname: z.string().optional(), ip: z.string().optional() }) })
    .optional(),
  domain: z
    .object({
      fault_domain: z
        .object({ region: z.object({ name: z.string() }), zone: z.object({ name: z.string() }) })
        .optional(),
    })
    .optional(),
  resources: z.array(resource).optional(),
  attributes: z.array(attribute).optional(),
  executor_ids: z.array(id).optional(),
});

const inverseOffer = z.object({ id, agent_id: id.optional() });

// What the runner, the scheduler and the acknowledgement read of a status update. A uuid is
// what gets acknowledged: it must be one Mesos accepts, and come with the agent id.
const taskStatus = z
  .object({
    task_id: id,
    state: z.string().regex(/^TASK_[A-Z_]+$/),
    message: z.string().optional(),
    source: z.string().optional(),
    reason: z.string().optional(),
    data: z.string().optional(),
    agent_id: id.optional(),
    executor_id: id.optional(),
    uuid: z.string().refine(isStatusUuid, "not 16 bytes of base64").optional(),
  })
  .refine((s) => s.uuid === undefined || s.agent_id !== undefined, {
    message: "an update with a uuid must name its agent",
    path: ["agent_id"],
  });

// ---- scheduler events (body schemas, by event type) -----------------------------------

const schedulerBodies: { [T in Exclude<SchedulerEventType, "HEARTBEAT">]: z.ZodType } = {
  SUBSCRIBED: z.object({
    framework_id: id,
    heartbeat_interval_seconds: z.number().positive().optional(),
    master_info: z.object({}).optional(),
  }),
  OFFERS: z.object({ offers: z.array(z.unknown()).optional() }),
  INVERSE_OFFERS: z.object({ inverse_offers: z.array(z.unknown()).optional() }),
  RESCIND: z.object({ offer_id: id }),
  RESCIND_INVERSE_OFFER: z.object({ inverse_offer_id: id }),
  UPDATE: z.object({ status: taskStatus }),
  UPDATE_OPERATION_STATUS: z.object({
    status: z.object({ state: z.string().min(1), operation_id: id.optional() }),
  }),
  MESSAGE: z.object({ agent_id: id, executor_id: id, data: z.string() }),
  FAILURE: z.object({
    agent_id: id.optional(),
    executor_id: id.optional(),
    status: z.number().int().optional(),
  }),
  ERROR: z.object({ message: z.string() }),
};

// ---- executor events -------------------------------------------------------------------

const killPolicy = z.object({
  grace_period: z.object({ nanoseconds: int64.optional() }).optional(),
});
// The executor reads the id, the node-step spec in `data`, and the kill policy.
const taskInfo = z.object({
  task_id: id,
  data: z.string().optional(),
  kill_policy: killPolicy.optional(),
});

const executorBodies: { [T in Exclude<ExecutorEventType, "HEARTBEAT" | "SHUTDOWN">]: z.ZodType } = {
  SUBSCRIBED: z.object({
    framework_info: z.object({
      capabilities: z.array(z.object({ type: z.string() })).optional(),
    }),
    agent_info: z.object({ hostname: z.string().optional() }).optional(),
  }),
  LAUNCH: z.object({ task: taskInfo }),
  LAUNCH_GROUP: z.object({ task_group: z.object({ tasks: z.array(taskInfo).min(1) }) }),
  KILL: z.object({ task_id: id, kill_policy: killPolicy.optional() }),
  ACKNOWLEDGED: z.object({ task_id: id, uuid: z.string() }),
  MESSAGE: z.object({ data: z.string() }),
  ERROR: z.object({ message: z.string() }),
};

// ---- checking ------------------------------------------------------------------------

type Raw = { type: string } & Record<string, unknown>;

function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out;
}

/** The first problem zod found, as `path: message`, under the given prefix. */
function problemOf(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  if (!issue) return `${prefix}: invalid`;
  const where = pathText([prefix, ...issue.path]);
  return `${where}: ${issue.message}`.slice(0, 300);
}

function checkBody(type: string, raw: Raw, schema: z.ZodType): Record<string, unknown> {
  const key = type.toLowerCase();
  const body = raw[key];
  const result = schema.safeParse(body);
  if (!result.success) throw new InvalidEventError(type, problemOf(result.error, key));
  return body as Record<string, unknown>;
}

/** Each item that fails `schema` is left out, with a line saying why. */
function keepValid(
  items: unknown[],
  schema: z.ZodType,
  where: string,
): { kept: unknown[]; dropped: string[] } {
  const dropped: string[] = [];
  const kept: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    const result = schema.safeParse(items[i]);
    if (result.success) kept.push(items[i]);
    else dropped.push(problemOf(result.error, `${where}[${i}]`));
  }
  return { kept, dropped };
}

export interface CheckedSchedulerEvent {
  event: SchedulerEvent;
  /** Offers (or inverse offers) left out of the event, one line each saying why. */
  dropped: string[];
}

/**
 * Checks a decoded scheduler event of a known type. Throws InvalidEventError when the event
 * as a whole is unusable; drops bad offers from OFFERS/INVERSE_OFFERS (an event whose offers
 * were all bad is unusable).
 */
export function checkSchedulerEvent(raw: Raw): CheckedSchedulerEvent {
  const type = raw.type as SchedulerEventType;
  if (type === "HEARTBEAT") return { event: raw as unknown as SchedulerEvent, dropped: [] };
  const schema = schedulerBodies[type];
  if (!schema) throw new InvalidEventError(type, "not a scheduler event type");
  const body = checkBody(type, raw, schema);
  if (type !== "OFFERS" && type !== "INVERSE_OFFERS") {
    return { event: raw as unknown as SchedulerEvent, dropped: [] };
  }
  const listKey = type === "OFFERS" ? "offers" : "inverse_offers";
  const items = body[listKey] as unknown[] | undefined;
  if (!items || items.length === 0) {
    return { event: raw as unknown as SchedulerEvent, dropped: [] };
  }
  const { kept, dropped } = keepValid(
    items,
    type === "OFFERS" ? offer : inverseOffer,
    `${listKey}.${listKey}`,
  );
  if (dropped.length === 0) return { event: raw as unknown as SchedulerEvent, dropped };
  if (kept.length === 0) {
    throw new InvalidEventError(
      type,
      dropped.length === 1 ? dropped[0]! : `${dropped[0]} (and ${dropped.length - 1} more)`,
    );
  }
  const event = { ...raw, [listKey]: { ...body, [listKey]: kept } };
  return { event: event as unknown as SchedulerEvent, dropped };
}

/** Checks a decoded executor event of a known type; throws InvalidEventError. */
export function checkExecutorEvent(raw: Raw): ExecutorEvent {
  const type = raw.type as ExecutorEventType;
  if (type === "HEARTBEAT" || type === "SHUTDOWN") return raw as unknown as ExecutorEvent;
  const schema = executorBodies[type];
  if (!schema) throw new InvalidEventError(type, "not an executor event type");
  checkBody(type, raw, schema);
  return raw as unknown as ExecutorEvent;
}
