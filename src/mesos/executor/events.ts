// Checks that a decoded executor event has the fields the client relies on, so that a
// malformed event from the agent becomes a clear MesosProtocolError instead of a crash
// deep inside a handler. Unknown event types pass through untouched (reference 10.25).
import { MesosProtocolError } from "../errors.js";
import type { DurationInfo, TaskInfo } from "../types/common.js";
import { EXECUTOR_EVENT_TYPES, type ExecutorEvent } from "../types/executor.js";

export type DecodedExecutorEvent =
  ExecutorEvent | { type: "UNKNOWN_EVENT"; originalType: string; raw: Record<string, unknown> };

const KNOWN: ReadonlySet<string> = new Set(EXECUTOR_EVENT_TYPES);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function requireObject(parent: Record<string, unknown>, key: string, where: string) {
  const v = parent[key];
  if (!isObject(v)) throw new MesosProtocolError(`${where}: '${key}' is missing or not an object`);
  return v;
}

function requireId(parent: Record<string, unknown>, key: string, where: string): void {
  const id = requireObject(parent, key, where);
  if (typeof id.value !== "string" || id.value === "") {
    throw new MesosProtocolError(`${where}: '${key}.value' is missing or not a string`);
  }
}

function checkTask(task: unknown, where: string): asserts task is TaskInfo {
  if (!isObject(task)) throw new MesosProtocolError(`${where}: task is not an object`);
  requireId(task, "task_id", where);
}

/** Validates the shape of a known event; returns unknown types wrapped as UNKNOWN_EVENT. */
export function toExecutorEvent(
  raw: { type: string } & Record<string, unknown>,
): DecodedExecutorEvent {
  const type = raw.type;
  if (!KNOWN.has(type)) return { type: "UNKNOWN_EVENT", originalType: type, raw };
  const where = `${type} event`;
  switch (type) {
    case "SUBSCRIBED": {
      const s = requireObject(raw, "subscribed", where);
      requireObject(s, "framework_info", where);
      break;
    }
    case "LAUNCH":
      checkTask(requireObject(raw, "launch", where).task, where);
      break;
    case "LAUNCH_GROUP": {
      const group = requireObject(requireObject(raw, "launch_group", where), "task_group", where);
      if (!Array.isArray(group.tasks) || group.tasks.length === 0) {
        throw new MesosProtocolError(`${where}: 'task_group.tasks' is missing or empty`);
      }
      for (const t of group.tasks) checkTask(t, where);
      break;
    }
    case "KILL":
      requireId(requireObject(raw, "kill", where), "task_id", where);
      break;
    case "ACKNOWLEDGED": {
      const ack = requireObject(raw, "acknowledged", where);
      requireId(ack, "task_id", where);
      if (typeof ack.uuid !== "string") {
        throw new MesosProtocolError(`${where}: 'uuid' is missing or not a string`);
      }
      break;
    }
    case "MESSAGE": {
      const m = requireObject(raw, "message", where);
      if (typeof m.data !== "string") {
        throw new MesosProtocolError(`${where}: 'data' is missing or not a string`);
      }
      break;
    }
    case "ERROR": {
      const e = requireObject(raw, "error", where);
      if (typeof e.message !== "string") {
        throw new MesosProtocolError(`${where}: 'message' is missing or not a string`);
      }
      break;
    }
    default:
      break; // SHUTDOWN, HEARTBEAT: no body
  }
  return raw as unknown as ExecutorEvent;
}

/** Milliseconds of a DurationInfo (Int64 nanoseconds, possibly bigint); undefined if unset. */
export function durationInfoMs(d: DurationInfo | undefined): number | undefined {
  if (!d || d.nanoseconds === undefined || d.nanoseconds === null) return undefined;
  const ns = d.nanoseconds;
  const ms = typeof ns === "bigint" ? Number(ns / 1_000_000n) : Number(ns) / 1e6;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
