// JSON → "protobuf" conversion as Mesos does it (stout's protobuf::parse): required fields
// must be present, types must match, `null` means unset, numbers may be strings, unknown
// keys are ignored, an unknown enum string is dropped from an optional field and is an
// error in a required one. The master and agent run every body through this before
// looking at it, so nothing downstream has to distrust shapes.
import { SCHEDULER_CALL_TYPES, EXECUTOR_CALL_TYPES } from "../../../src/mesos/types/index.js";

export type Schema =
  | "string"
  | "number"
  | "int"
  | "bool"
  | "bytes"
  | "any"
  | { msg: () => Fields }
  | { arr: Schema }
  | { enum: readonly string[] }
  | { map: Schema };

export type Fields = Record<string, readonly [Schema, boolean?]>;

export class SchemaError extends Error {}

const msg = (f: () => Fields): Schema => ({ msg: f });
const arr = (s: Schema): Schema => ({ arr: s });
const en = (values: readonly string[]): Schema => ({ enum: values });
const req = <S extends Schema>(s: S) => [s, true] as const;
const opt = <S extends Schema>(s: S) => [s] as const;

const ID: Fields = { value: req("string") };
const idS = msg(() => ID);

const Labels: Fields = {
  labels: opt(arr(msg(() => ({ key: req("string"), value: opt("string") })))),
};
const Range: Fields = { begin: req("int"), end: req("int") };
const ReservationInfo: Fields = {
  type: opt(en(["UNKNOWN", "STATIC", "DYNAMIC"])),
  role: opt("string"),
  principal: opt("string"),
  labels: opt(msg(() => Labels)),
};
const Volume: Fields = {
  container_path: req("string"),
  host_path: opt("string"),
  mode: req(en(["RW", "RO"])),
  image: opt("any"),
  source: opt("any"),
};
const DiskInfo: Fields = {
  persistence: opt(msg(() => ({ id: req("string"), principal: opt("string") }))),
  volume: opt(msg(() => Volume)),
  source: opt(
    msg(() => ({
      type: req(en(["UNKNOWN", "PATH", "MOUNT", "BLOCK", "RAW"])),
      path: opt(msg(() => ({ root: opt("string") }))),
      mount: opt(msg(() => ({ root: opt("string") }))),
      id: opt("string"),
      metadata: opt(msg(() => Labels)),
      profile: opt("string"),
      vendor: opt("string"),
    })),
  ),
};
export const ResourceFields: Fields = {
  name: req("string"),
  type: req(en(["SCALAR", "RANGES", "SET", "TEXT"])),
  scalar: opt(msg(() => ({ value: req("number") }))),
  ranges: opt(msg(() => ({ range: opt(arr(msg(() => Range))) }))),
  set: opt(msg(() => ({ item: opt(arr("string")) }))),
  role: opt("string"),
  allocation_info: opt(msg(() => ({ role: opt("string") }))),
  reservation: opt(msg(() => ReservationInfo)),
  reservations: opt(arr(msg(() => ReservationInfo))),
  disk: opt(msg(() => DiskInfo)),
  revocable: opt("any"),
  shared: opt("any"),
  provider_id: opt(idS),
};
const resS = msg(() => ResourceFields);

const Environment: Fields = {
  variables: opt(
    arr(
      msg(() => ({
        name: req("string"),
        type: opt(en(["UNKNOWN", "VALUE", "SECRET"])),
        value: opt("string"),
        secret: opt("any"),
      })),
    ),
  ),
};
const CommandInfo: Fields = {
  uris: opt(
    arr(
      msg(() => ({
        value: req("string"),
        executable: opt("bool"),
        extract: opt("bool"),
        cache: opt("bool"),
        output_file: opt("string"),
      })),
    ),
  ),
  environment: opt(msg(() => Environment)),
  shell: opt("bool"),
  value: opt("string"),
  arguments: opt(arr("string")),
  user: opt("string"),
};
const DurationInfo: Fields = { nanoseconds: req("int") };
const ContainerInfo: Fields = {
  type: req(en(["DOCKER", "MESOS"])),
  volumes: opt(arr(msg(() => Volume))),
  hostname: opt("string"),
  docker: opt("any"),
  mesos: opt("any"),
  network_infos: opt(arr("any")),
  linux_info: opt("any"),
  rlimit_info: opt("any"),
  tty_info: opt("any"),
};
export const ExecutorInfoFields: Fields = {
  type: opt(en(["UNKNOWN", "DEFAULT", "CUSTOM"])),
  executor_id: req(idS),
  framework_id: opt(idS),
  command: opt(msg(() => CommandInfo)),
  container: opt(msg(() => ContainerInfo)),
  resources: opt(arr(resS)),
  name: opt("string"),
  source: opt("string"),
  data: opt("bytes"),
  discovery: opt("any"),
  shutdown_grace_period: opt(msg(() => DurationInfo)),
  labels: opt(msg(() => Labels)),
};
export const TaskInfoFields: Fields = {
  name: req("string"),
  task_id: req(idS),
  agent_id: req(idS),
  resources: opt(arr(resS)),
  executor: opt(msg(() => ExecutorInfoFields)),
  command: opt(msg(() => CommandInfo)),
  container: opt(msg(() => ContainerInfo)),
  health_check: opt("any"),
  check: opt("any"),
  kill_policy: opt(msg(() => ({ grace_period: opt(msg(() => DurationInfo)) }))),
  data: opt("bytes"),
  labels: opt(msg(() => Labels)),
  discovery: opt("any"),
  max_completion_time: opt(msg(() => DurationInfo)),
  limits: opt("any"),
};
const taskS = msg(() => TaskInfoFields);

const OPERATION_TYPES = [
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
const Operation: Fields = {
  type: opt(en(OPERATION_TYPES)),
  id: opt(idS),
  launch: opt(msg(() => ({ task_infos: opt(arr(taskS)) }))),
  launch_group: opt(
    msg(() => ({
      executor: req(msg(() => ExecutorInfoFields)),
      task_group: req(msg(() => ({ tasks: opt(arr(taskS)) }))),
    })),
  ),
  reserve: opt(msg(() => ({ source: opt(arr(resS)), resources: opt(arr(resS)) }))),
  unreserve: opt(msg(() => ({ resources: opt(arr(resS)) }))),
  create: opt(msg(() => ({ volumes: opt(arr(resS)) }))),
  destroy: opt(msg(() => ({ volumes: opt(arr(resS)) }))),
  grow_volume: opt("any"),
  shrink_volume: opt("any"),
  create_disk: opt("any"),
  destroy_disk: opt("any"),
};
const Filters: Fields = { refuse_seconds: opt("number") };
const CAPABILITIES = [
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
export const FrameworkInfoFields: Fields = {
  user: req("string"),
  name: req("string"),
  id: opt(idS),
  failover_timeout: opt("number"),
  checkpoint: opt("bool"),
  role: opt("string"),
  roles: opt(arr("string")),
  hostname: opt("string"),
  principal: opt("string"),
  webui_url: opt("string"),
  capabilities: opt(arr(msg(() => ({ type: opt(en(CAPABILITIES)) })))),
  labels: opt(msg(() => Labels)),
  offer_filters: opt("any"),
};
const SubscribeLike: Fields = {
  framework_info: req(msg(() => FrameworkInfoFields)),
  suppressed_roles: opt(arr("string")),
  offer_constraints: opt("any"),
};
const offerIds = opt(arr(idS));

export const SchedulerCallFields: Fields = {
  framework_id: opt(idS),
  type: opt(en(["UNKNOWN", ...SCHEDULER_CALL_TYPES])),
  subscribe: opt(msg(() => SubscribeLike)),
  accept: opt(
    msg(() => ({
      offer_ids: offerIds,
      operations: opt(arr(msg(() => Operation))),
      filters: opt(msg(() => Filters)),
    })),
  ),
  decline: opt(msg(() => ({ offer_ids: offerIds, filters: opt(msg(() => Filters)) }))),
  accept_inverse_offers: opt(
    msg(() => ({ inverse_offer_ids: offerIds, filters: opt(msg(() => Filters)) })),
  ),
  decline_inverse_offers: opt(
    msg(() => ({ inverse_offer_ids: offerIds, filters: opt(msg(() => Filters)) })),
  ),
  revive: opt(msg(() => ({ roles: opt(arr("string")) }))),
  suppress: opt(msg(() => ({ roles: opt(arr("string")) }))),
  kill: opt(
    msg(() => ({
      task_id: req(idS),
      agent_id: opt(idS),
      kill_policy: opt(msg(() => ({ grace_period: opt(msg(() => DurationInfo)) }))),
    })),
  ),
  shutdown: opt(msg(() => ({ executor_id: req(idS), agent_id: req(idS) }))),
  acknowledge: opt(msg(() => ({ agent_id: req(idS), task_id: req(idS), uuid: req("bytes") }))),
  acknowledge_operation_status: opt(
    msg(() => ({
      agent_id: opt(idS),
      resource_provider_id: opt(idS),
      uuid: req("bytes"),
      operation_id: req(idS),
    })),
  ),
  reconcile: opt(
    msg(() => ({ tasks: opt(arr(msg(() => ({ task_id: req(idS), agent_id: opt(idS) })))) })),
  ),
  reconcile_operations: opt(
    msg(() => ({
      operations: opt(arr(msg(() => ({ operation_id: req(idS), agent_id: opt(idS) })))),
    })),
  ),
  message: opt(msg(() => ({ agent_id: req(idS), executor_id: req(idS), data: req("bytes") }))),
  request: opt(
    msg(() => ({
      requests: opt(arr(msg(() => ({ agent_id: opt(idS), resources: opt(arr(resS)) })))),
    })),
  ),
  update_framework: opt(msg(() => SubscribeLike)),
};

const TASK_STATES = [
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
export const TaskStatusFields: Fields = {
  task_id: req(idS),
  state: req(en(TASK_STATES)),
  message: opt("string"),
  source: opt(en(["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"])),
  reason: opt("string"),
  data: opt("bytes"),
  agent_id: opt(idS),
  executor_id: opt(idS),
  timestamp: opt("number"),
  uuid: opt("bytes"),
  healthy: opt("bool"),
  check_status: opt("any"),
  labels: opt(msg(() => Labels)),
  container_status: opt("any"),
  unreachable_time: opt("any"),
  limitation: opt("any"),
};
const updateS = msg(() => ({ status: req(msg(() => TaskStatusFields)) }));

export const ExecutorCallFields: Fields = {
  executor_id: req(idS),
  framework_id: req(idS),
  type: opt(en(["UNKNOWN", ...EXECUTOR_CALL_TYPES])),
  subscribe: opt(
    msg(() => ({
      unacknowledged_tasks: opt(arr(taskS)),
      unacknowledged_updates: opt(arr(updateS)),
    })),
  ),
  update: opt(updateS),
  message: opt(msg(() => ({ data: req("bytes") }))),
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function convert(value: unknown, schema: Schema, path: string): unknown {
  if (schema === "any") return value;
  if (schema === "string") {
    if (typeof value !== "string") throw new SchemaError(`Not a string: '${path}'`);
    return value;
  }
  if (schema === "bytes") {
    if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) {
      throw new SchemaError(`Failed to base64-decode '${path}'`);
    }
    return value;
  }
  if (schema === "bool") {
    if (value === "true") return true;
    if (value === "false") return false;
    if (typeof value !== "boolean") throw new SchemaError(`Not a boolean: '${path}'`);
    return value;
  }
  if (schema === "number" || schema === "int") {
    let n: number;
    if (typeof value === "bigint") return schema === "int" ? value : Number(value);
    if (typeof value === "number") n = value;
    else if (typeof value === "string") {
      if (value === "Infinity") n = Infinity;
      else if (value === "-Infinity") n = -Infinity;
      else if (/^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) n = Number(value);
      else throw new SchemaError(`Failed to convert '${value}' to number for '${path}'`);
      if (schema === "int" && /^-?\d{16,}$/.test(value.trim())) return BigInt(value.trim());
    } else throw new SchemaError(`Not a number: '${path}'`);
    if (schema === "int" && !Number.isInteger(n)) {
      throw new SchemaError(`Not an integer: '${path}'`);
    }
    return n;
  }
  if ("enum" in schema) {
    if (typeof value !== "string" || !schema.enum.includes(value)) return undefined;
    return value;
  }
  if ("arr" in schema) {
    if (!Array.isArray(value)) throw new SchemaError(`Not an array: '${path}'`);
    return value.map((v, i) => {
      if (v === null) throw new SchemaError(`Null element in '${path}[${i}]'`);
      const c = convert(v, schema.arr, `${path}[${i}]`);
      if (c === undefined) throw new SchemaError(`Invalid enum value in '${path}[${i}]'`);
      return c;
    });
  }
  if ("map" in schema) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new SchemaError(`Not an object: '${path}'`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = convert(v, schema.map, `${path}.${k}`);
    return out;
  }
  return convertMessage(value, schema.msg(), path);
}

function convertMessage(value: unknown, fields: Fields, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SchemaError(`Not an object: '${path || "<root>"}'`);
  }
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [key, [schema, required]] of Object.entries(fields)) {
    const sub = path ? `${path}.${key}` : key;
    const raw = src[key];
    if (raw === undefined || raw === null) {
      if (required) missing.push(sub);
      continue;
    }
    const c = convert(raw, schema, sub);
    if (c === undefined) {
      if (required) throw new SchemaError(`Invalid value for required enum field '${sub}'`);
      continue;
    }
    out[key] = c;
  }
  if (missing.length > 0) throw new SchemaError(`Missing required fields: ${missing.join(", ")}`);
  return out;
}

/** Converts a parsed JSON body to the message shape; throws SchemaError with Mesos-like text. */
export function toMessage<T>(value: unknown, fields: Fields): T {
  return convertMessage(value, fields, "") as T;
}
