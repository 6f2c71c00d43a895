// What the configuration schema says about each key — its type, allowed values, range and
// default — read from the zod schema itself, so that help, the generated reference and error
// messages follow every key added to src/cli/config/schema.ts without a second list.
import type { z } from "zod";
import { configSchema } from "./schema.js";

/** A zod schema's internal definition: the parts read here (zod 4). */
interface Def {
  type: string;
  innerType?: ZodNode;
  defaultValue?: unknown;
  shape?: Record<string, ZodNode>;
  options?: ZodNode[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  in?: ZodNode;
  out?: ZodNode;
  valueType?: ZodNode;
  checks?: { _zod: { def: CheckDef } }[];
  format?: string;
}
interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
}
interface ZodNode {
  _zod: { def: Def; values?: Set<unknown> };
}

const node = (s: z.ZodType | ZodNode): ZodNode => s as unknown as ZodNode;

export interface KeyInfo {
  path: string[];
  /** Human type: "integer 0 to 65535", "one of: a, b", "boolean", "duration (90s, 10m, 1h)". */
  type: string;
  /** Values the key accepts when it is a closed set (enum or literals). */
  choices?: (string | number)[];
  min?: { value: number; inclusive: boolean };
  max?: { value: number; inclusive: boolean };
  kind: "string" | "integer" | "number" | "boolean" | "enum" | "duration" | "map" | "other";
  /** A required key inside an optional section (scaleio.existing.primary). */
  required: boolean;
}

/** Strips default/prefault/optional wrappers; the default met on the way, if any. */
function unwrap(s: ZodNode): { inner: ZodNode; optional: boolean } {
  let cur = s;
  let optional = false;
  for (;;) {
    const d = cur._zod.def;
    if (d.type === "default" || d.type === "prefault" || d.type === "optional") {
      if (d.type !== "prefault") optional = true;
      cur = d.innerType!;
      continue;
    }
    if (d.type === "nullable" || d.type === "readonly" || d.type === "catch") {
      cur = d.innerType!;
      continue;
    }
    return { inner: cur, optional };
  }
}

/** The object schema of the top level (the configuration's superRefine wraps it in zod 4). */
function rootObject(): ZodNode {
  let s = node(configSchema);
  while (s._zod.def.type !== "object") {
    const d = s._zod.def;
    s = d.in ?? d.innerType!;
  }
  return s;
}

/** The schema found at a key path, unwrapped; undefined when the path names no key. */
export function schemaAt(path: readonly (string | number)[]): ZodNode | undefined {
  let cur: ZodNode = rootObject();
  for (const key of path) {
    const obj = unwrap(cur).inner;
    if (obj._zod.def.type === "record") {
      cur = obj._zod.def.valueType!;
      continue;
    }
    const shape = obj._zod.def.shape;
    if (!shape || !Object.hasOwn(shape, String(key))) return undefined;
    cur = shape[String(key)]!;
  }
  return unwrap(cur).inner;
}

/** The keys an object at `path` accepts (for "did you mean"). */
export function keysAt(path: readonly (string | number)[]): string[] {
  const s = schemaAt(path);
  return s?._zod.def.shape ? Object.keys(s._zod.def.shape) : [];
}

function numberBounds(s: ZodNode): Pick<KeyInfo, "min" | "max"> & { int: boolean } {
  const out: Pick<KeyInfo, "min" | "max"> & { int: boolean } = { int: false };
  for (const c of s._zod.def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === "number_format" && /int/.test(d.format ?? "")) out.int = true;
    if (d.check === "greater_than" && d.value !== undefined) {
      out.min = { value: d.value, inclusive: d.inclusive ?? false };
    }
    if (d.check === "less_than" && d.value !== undefined) {
      out.max = { value: d.value, inclusive: d.inclusive ?? false };
    }
  }
  return out;
}

const fmt = (n: number) => String(n);

function rangeText(min?: KeyInfo["min"], max?: KeyInfo["max"]): string {
  if (min && max && min.inclusive && max.inclusive) return `${fmt(min.value)} to ${fmt(max.value)}`;
  const parts: string[] = [];
  if (min) parts.push(min.inclusive ? `>= ${fmt(min.value)}` : `> ${fmt(min.value)}`);
  if (max) parts.push(max.inclusive ? `<= ${fmt(max.value)}` : `< ${fmt(max.value)}`);
  return parts.join(", ");
}

function literalValues(s: ZodNode): (string | number)[] | undefined {
  const d = s._zod.def;
  if (d.type === "literal") return (d.values ?? [...(s._zod.values ?? [])]) as (string | number)[];
  if (d.type === "enum") return Object.values(d.entries ?? {});
  if (d.type === "union") {
    const all = (d.options ?? []).map((o) => literalValues(unwrap(o).inner));
    if (all.every((v) => v !== undefined)) return all.flat() as (string | number)[];
  }
  return undefined;
}

/** "3 or 5", "a, b or c". */
export function orList(values: readonly (string | number)[]): string {
  const v = values.map(String);
  return v.length <= 1 ? (v[0] ?? "") : `${v.slice(0, -1).join(", ")} or ${v.at(-1)}`;
}

/** Everything the schema says about the key at `path`. */
export function keyInfo(path: readonly string[]): KeyInfo | undefined {
  let cur: ZodNode = rootObject();
  let required = true;
  for (const key of path) {
    const obj = unwrap(cur).inner;
    const shape = obj._zod.def.shape;
    if (!shape || !Object.hasOwn(shape, key)) return undefined;
    cur = shape[key]!;
  }
  const { inner: s, optional } = unwrap(cur);
  required = !optional;
  const d = s._zod.def;
  const base = { path: [...path], required };
  const choices = literalValues(s);
  if (choices) return { ...base, kind: "enum", choices, type: `one of: ${choices.join(", ")}` };
  if (d.type === "number") {
    const b = numberBounds(s);
    const range = rangeText(b.min, b.max);
    return {
      ...base,
      kind: b.int ? "integer" : "number",
      ...(b.min ? { min: b.min } : {}),
      ...(b.max ? { max: b.max } : {}),
      type: `${b.int ? "integer" : "number"}${range ? ` ${range}` : ""}`,
    };
  }
  if (d.type === "boolean") return { ...base, kind: "boolean", type: "boolean" };
  if (d.type === "string") return { ...base, kind: "string", type: "string" };
  if (d.type === "record") return { ...base, kind: "map", type: "map of names to strings" };
  // durationMs(): text or seconds, turned into milliseconds.
  if (d.type === "pipe" && d.out?._zod.def.type === "transform") {
    return { ...base, kind: "duration", type: "duration (90s, 10m, 1h30m; a number: seconds)" };
  }
  return { ...base, kind: "other", type: d.type };
}

/** Every key path of the configuration, sections expanded, in the schema's order. */
export function allKeys(): string[][] {
  const out: string[][] = [];
  const walk = (s: ZodNode, path: string[]) => {
    const inner = unwrap(s).inner;
    const shape = inner._zod.def.shape;
    if (!shape) {
      out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(shape)) walk(v, [...path, k]);
  };
  walk(rootObject(), []);
  return out;
}

let defaultsCache: Record<string, unknown> | undefined;

/** The configuration every default applied (what an empty file, no flag and no variable give). */
export function defaults(): Record<string, unknown> {
  if (!defaultsCache) {
    const r = configSchema.safeParse({});
    if (!r.success) throw new Error("the configuration's defaults do not validate");
    defaultsCache = r.data as unknown as Record<string, unknown>;
  }
  return defaultsCache;
}

/** The default of the key at `path`; undefined when it has none. */
export function defaultAt(path: readonly string[]): unknown {
  let v: unknown = defaults();
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** What a value must be, for an error: "must be 3 or 5", "must be an integer from 0 to 65535". */
export function allowedText(path: readonly string[]): string | undefined {
  const info = keyInfo(path);
  if (!info) return undefined;
  if (info.choices) return `must be ${orList(info.choices)}`;
  if (info.kind === "integer" || info.kind === "number") {
    const what = info.kind === "integer" ? "an integer" : "a number";
    const range = rangeText(info.min, info.max);
    if (info.min?.inclusive && info.max?.inclusive) {
      return `must be ${what} from ${fmt(info.min.value)} to ${fmt(info.max.value)}`;
    }
    return `must be ${what}${range ? ` ${range}` : ""}`;
  }
  if (info.kind === "boolean") return "must be true or false";
  if (info.kind === "duration") return "must be a duration such as 90s, 10m or 1h";
  if (info.kind === "string") return "must be a string";
  return undefined;
}
