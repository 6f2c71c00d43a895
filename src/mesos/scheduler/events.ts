// Decoding and dispatch of scheduler events. Unknown event types are returned as such and
// ignored by dispatch: Mesos adds event types over time. Known types are checked
// (validation.ts) for the fields the framework reads before anyone sees them.
import { decodeMessage } from "../json.js";
import {
  SCHEDULER_EVENT_TYPES,
  bodyKey,
  type SchedulerEvent,
  type SchedulerEventType,
} from "../types/scheduler.js";
import { checkSchedulerEvent } from "../validation.js";

export type DecodedSchedulerEvent =
  | {
      known: true;
      event: SchedulerEvent;
      /** Offers left out of an OFFERS/INVERSE_OFFERS event, one line each saying why. */
      dropped: string[];
    }
  | { known: false; type: string; raw: Record<string, unknown> };

const KNOWN = new Set<string>(SCHEDULER_EVENT_TYPES);

/**
 * Decodes and checks one RecordIO record. Throws MesosProtocolError for a record that is not
 * a message (bad UTF-8 or JSON, no type), and its subclass InvalidEventError for a known
 * event type missing or mistyping a field the framework reads.
 */
export function decodeSchedulerEvent(record: Uint8Array): DecodedSchedulerEvent {
  const msg = decodeMessage(record);
  if (!KNOWN.has(msg.type)) return { known: false, type: msg.type, raw: msg };
  const { event, dropped } = checkSchedulerEvent(msg);
  return { known: true, event, dropped };
}

/** The body of an event of type T (undefined for HEARTBEAT). */
export type BodyOf<T extends SchedulerEventType> =
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
