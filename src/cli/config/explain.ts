// Configuration errors an operator can act on: each names where the bad value came from (the
// flag, the environment variable, or the file and line of the key), says what is allowed
// ("must be 3 or 5", not "Invalid input") and suggests the key that was probably meant.
import { isMap, isScalar, type Document, type LineCounter } from "yaml";
import type { z } from "zod";
import { allowedText, keyInfo, keysAt } from "./schema-info.js";
import { didYouMean } from "./suggest.js";

export type Source =
  | { kind: "flag"; flag: string }
  | { kind: "env"; name: string }
  | { kind: "file"; file: string; line?: number };

type Issue = z.core.$ZodIssue;

/** Where each configuration value came from, by key path ("scaleio.mdmCount"). */
export class Provenance {
  private readonly sources = new Map<string, Source>();

  set(path: readonly string[], source: Source): void {
    this.sources.set(path.join("."), source);
  }

  /** Records every key of a YAML file with its line. */
  addFile(doc: Document, file: string, lines: LineCounter): void {
    const walk = (n: unknown, path: string[]) => {
      if (!isMap(n)) return;
      for (const pair of n.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const at = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        this.set([...path, key], {
          kind: "file",
          file,
          ...(at !== undefined ? { line: lines.linePos(at).line } : {}),
        });
        walk(pair.value, [...path, key]);
      }
    };
    walk(doc.contents, []);
  }

  /** The source of a key, or of the nearest section holding it (a file sets whole sections). */
  sourceOf(path: readonly (string | number)[]): Source | undefined {
    for (let n = path.length; n > 0; n--) {
      const s = this.sources.get(path.slice(0, n).join("."));
      if (s && (n === path.length || s.kind === "file")) return s;
    }
    return undefined;
  }

  /** "--mdm-count", "SCALEIO_FRAMEWORK_MDM_COUNT", "config.yaml:12 scaleio.mdmCount", or the key. */
  where(path: readonly (string | number)[]): string {
    const key = path.join(".") || "(top level)";
    const s = this.sourceOf(path);
    if (!s) {
      // A section whose keys came from flags or variables: name those.
      const inside = [...this.sources.entries()]
        .filter(([k, v]) => k.startsWith(`${key}.`) && v.kind !== "file")
        .map(([, v]) => (v.kind === "flag" ? `--${v.flag}` : v.kind === "env" ? v.name : ""));
      return inside.length > 0 ? `${key} (${inside.join(", ")})` : key;
    }
    if (s.kind === "flag") return `--${s.flag}`;
    if (s.kind === "env") return s.name;
    return `${s.file}${s.line !== undefined ? `:${s.line}` : ""} ${key}`;
  }

  /** One problem per bad key, each naming its source. */
  explain(issues: readonly Issue[], raw: unknown, howToSet: (path: string[]) => string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const issue of issues) {
      const path = issue.path.map(String);
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          out.push(`${this.where([...path, k])}: unknown key${didYouMean(k, keysAt(path))}`);
        }
        continue;
      }
      // zod reports several issues for one bad value (too short and not matching): one is enough.
      const id = path.join(".");
      if (seen.has(id)) continue;
      seen.add(id);
      const value = valueAt(raw, path);
      out.push(`${this.where(path)}: ${message(issue, path, value, howToSet)}`);
    }
    return out;
  }
}

function valueAt(raw: unknown, path: readonly string[]): unknown {
  let v = raw;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The offending value, briefly; strings quoted, long ones cut. */
function shown(value: unknown): string {
  if (typeof value === "string") {
    return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return typeof value === "object" ? "a mapping" : String(value);
}

function message(
  issue: Issue,
  path: string[],
  value: unknown,
  howToSet: (path: string[]) => string,
): string {
  const allowed = allowedText(path);
  const got = value === undefined ? "" : ` (got ${shown(value)})`;
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) {
        const how = howToSet(path);
        return `is required${how ? ` (${how})` : ""}`;
      }
      return `${allowed ?? `must be ${issue.expected === "object" ? "a mapping" : `a ${issue.expected}`}`}${got}`;
    case "invalid_value":
    case "invalid_union":
      return `${allowed ?? issue.message}${got}`;
    case "too_small":
    case "too_big":
      if (issue.origin === "string") {
        if (issue.code === "too_small" && issue.minimum === 1) return "must not be empty";
        return issue.code === "too_small"
          ? `must be at least ${issue.minimum} characters long`
          : `must be at most ${issue.maximum} characters long`;
      }
      if (issue.origin === "number" || issue.origin === "int") {
        return `${allowed ?? issue.message}${got}`;
      }
      return issue.message;
    case "invalid_key":
      // A map's key (executor.env): its own check says what is wrong.
      return `the key ${issue.issues[0]?.message ?? "is not valid"}`;
    default:
      // Refinements and patterns carry messages written for operators.
      return issue.message;
  }
}

/** How a key can be set, for "is required": its flag and variable, if it has them. */
export function settersOf(
  options: Record<string, { path: string[] }>,
  envName: (flag: string) => string,
): (path: string[]) => string {
  return (path) => {
    const flag = Object.entries(options).find(([, o]) => o.path.join(".") === path.join("."));
    if (!flag) return keyInfo(path) ? `the file's key ${path.join(".")}` : "";
    return `--${flag[0]}, ${envName(flag[0])} or the file's key ${path.join(".")}`;
  };
}
