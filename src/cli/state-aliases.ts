// The 2017 predecessor's store flags. `-store.type zk -store.uri host:2181/path` named its
// ZooKeeper store; `-store.dump`, `-store.delete`, `-store.add.key K -store.add.value V` and
// `-store.del.key K` ran one operation on that store and exited. Here the store is `--state`
// and the operations are the `state` verbs: these flags map onto them, each with a notice
// naming the modern form. Writes still ask for confirmation (or --yes), as `state` does.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const STORE_FLAG =
  /^--?(store\.(?:type|uri|dump|delete|add\.key|add\.value|del\.key))(?:=([\s\S]*))?$/i;
const SWITCHES = new Set(["store.dump", "store.delete"]);
const ACTIONS = ["store.dump", "store.delete", "store.add.key", "store.del.key"];

/** The store flags found in an argument list, and the arguments left. */
export interface LegacyStoreFlags {
  rest: string[];
  values: Map<string, string | boolean>;
}

/** Takes the `-store.*` flags out of an argument list (Go flag syntax: `-f v` or `-f=v`). */
export function extractStoreFlags(args: string[]): LegacyStoreFlags {
  const rest: string[] = [];
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = STORE_FLAG.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const name = m[1]!.toLowerCase();
    if (SWITCHES.has(name)) {
      values.set(name, m[2] === undefined || !/^(false|0)$/i.test(m[2]));
    } else if (m[2] !== undefined) {
      values.set(name, m[2]);
    } else if (i + 1 < args.length) {
      // As Go's flag package: a value flag takes the next argument, whatever it looks like.
      values.set(name, args[++i]!);
    } else {
      values.set(name, true); // no value: reported by the caller
    }
  }
  return { rest, values };
}

/** `--state` for `-store.type`/`-store.uri`, or why they cannot be used. */
export function legacyStateUrl(values: Map<string, string | boolean>): {
  url?: string;
  problem?: string;
  notice?: string;
} {
  const type = values.get("store.type");
  const uri = values.get("store.uri");
  if (type === undefined && uri === undefined) return {};
  if (typeof uri !== "string") {
    return {
      notice:
        "ignoring -store.type without -store.uri: name the store with --state zk://host:port/path or --state file:///path",
    };
  }
  if (typeof type === "boolean") return { problem: "-store.type needs a value (zk or file)" };
  const kind = (type ?? (/^file:/i.test(uri) ? "file" : "zk")).toLowerCase();
  let url: string;
  if (kind === "zk") url = /^zk:\/\//i.test(uri) ? uri : `zk://${uri}`;
  else if (kind === "file") url = /^file:\/\//i.test(uri) ? uri : pathToFileURL(resolve(uri)).href;
  else return { problem: `-store.type ${kind}: the store is zk (ZooKeeper) or file` };
  return {
    url,
    notice: `-store.type/-store.uri are --state now: using --state ${redactUrlCredentials(url)}`,
  };
}

/** A URL for a notice: credentials (`user:password@`) never shown. */
function redactUrlCredentials(url: string): string {
  return url.replace(/^(zk:\/\/)[^@/]*@/i, "$1");
}

/** The options of `state` kept from a predecessor command line; the rest do not apply. */
const KEPT_WITH_VALUE = new Set(["--state", "--state-dir", "--zk-auth-file", "--config"]);
const KEPT_SWITCHES = new Set(["--yes", "-y", "--json"]);

/**
 * A predecessor command line that runs a store operation (`[scheduler] -store.dump ...`) as
 * the arguments of the matching `state` verb; undefined when it runs none.
 */
export function legacyStateCommand(
  args: string[],
): { argv: string[]; notices: string[] } | { problem: string } | undefined {
  const rest0 = args[0] === "scheduler" ? args.slice(1) : args;
  if (rest0.length > 0 && !rest0[0]!.startsWith("-")) return undefined; // another verb
  const { rest, values } = extractStoreFlags(rest0);
  const actions = ACTIONS.filter((a) => values.has(a) && values.get(a) !== false);
  if (actions.length === 0) return undefined;
  if (actions.length > 1) {
    return { problem: `give one of ${actions.map((a) => `-${a}`).join(", ")}, not several` };
  }
  const action = actions[0]!;
  let verb: { name: string; args: string[]; shown: string[] };
  if (action === "store.dump") verb = { name: "dump", args: [], shown: [] };
  else if (action === "store.delete") verb = { name: "delete", args: ["--all"], shown: ["--all"] };
  else {
    const key = values.get(action);
    if (typeof key !== "string") return { problem: `-${action} needs a key` };
    if (action === "store.del.key") verb = { name: "delete", args: [key], shown: [key] };
    else {
      const value = values.get("store.add.value");
      if (typeof value !== "string") return { problem: "-store.add.key needs -store.add.value" };
      verb = { name: "set", args: [key, value], shown: [key, "<value>"] };
    }
  }
  const state = legacyStateUrl(values);
  if (state.problem) return { problem: state.problem };
  const notices: string[] = [];
  const kept: string[] = [];
  let dropped = 0;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const name = arg.split("=")[0]!;
    if (KEPT_SWITCHES.has(name)) kept.push(arg);
    else if (KEPT_WITH_VALUE.has(name)) {
      kept.push(arg);
      if (!arg.includes("=") && i + 1 < rest.length) kept.push(rest[++i]!);
    } else dropped++;
  }
  const location = state.url ? ["--state", state.url] : [];
  notices.push(
    `-${action} is \`scaleio-framework state ${[verb.name, ...verb.shown].join(" ")}${state.url ? ` --state ${redactUrlCredentials(state.url)}` : ""}\` now`,
  );
  if (dropped > 0) {
    notices.push(`ignoring ${dropped} other argument(s): \`state\` uses only where the state is`);
  }
  // Options first, then `--`: a key or value starting with "-" stays an argument.
  const positional = verb.args.filter((a) => a !== "--all");
  const options = verb.args.includes("--all") ? ["--all"] : [];
  return {
    argv: ["state", verb.name, ...options, ...location, ...kept, "--", ...positional],
    notices,
  };
}
