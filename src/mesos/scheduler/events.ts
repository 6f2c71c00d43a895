// Decoding and dispatch of scheduler events. Unknown event types are returned as such and
// ignored by dispatch: Mesos adds event types over time.
import { decodeMessage } from "../json.js";
import { MesosProtocolError } from "../errors.js";
import {
  SCHEDULER_EVENT_TYPES,
  bodyKey,
  type SchedulerEvent,
  type SchedulerEventType,
} from "../types/scheduler.js";

export type DecodedSchedulerEvent =
  | { known: true; event: SchedulerEvent }
  | { known: false; type: string; raw: Record<string, unknown> };

const KNOWN = new Set<string>(SCHEDULER_EVENT_TYPES);

/** Decodes one RecordIO record; a known type must carry its body object (except HEARTBEAT). */
export function decodeSchedulerEvent(record: Uint8Array): DecodedSchedulerEvent {
  const msg = decodeMessage(record);
  if (!KNOWN.has(msg.type)) return { known: false, type: msg.type, raw: msg };
  if (msg.type !== "HEARTBEAT") {
    const body = msg[bodyKey(msg.type)];
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new MesosProtocolError(`${msg.type} event without its '${bodyKey(msg.type)}' object`);
    }
  }
  return { known: true, event: msg as unknown as SchedulerEvent };
}

type BodyOf<T extends SchedulerEventType> =
  Extract<SchedulerEvent, { type: T }> extends infer E
    ? E extends { type: T }
      ? Omit<E, "type"> extends Record<string, never>
        ? undefined
        : E[Exclude<keyof E, "type"> & keyof E]
      : never
    : never;

export type SchedulerEventHandlers = {
  [T in SchedulerEventType]?: (body: BodyOf<T>) => void;
};

/** Calls the handler for the event's type with its body; returns false if none handled it. */
export function dispatchSchedulerEvent(
  event: SchedulerEvent,
  handlers: SchedulerEventHandlers,
): boolean {
  const handler = handlers[event.type] as ((body: unknown) => void) | undefined;
  if (!handler) return false;
  const body =
    event.type === "HEARTBEAT"
      ? undefined
      : (event as Record<string, unknown>)[bodyKey(event.type)];
  handler(body);
  return true;
}
