// How the scheduler starts, as an operator sees it: the help of each flag (its default and
// its environment variable), the first log line (what it talks to, where it keeps state, where
// its API is, what it deploys), and one form for every error that stops it from starting —
// `scaleio-framework: <message>` on one stderr line, exit 2 for configuration, 1 otherwise.
import { resolve } from "node:path";
import { ConfigError, envName } from "./config/load.js";
import { defaultAt } from "./config/schema-info.js";
import type { SchedulerConfig } from "./config/schema.js";
import { describeLocation, stateLocation } from "../store/open-store.js";

/** A reason the scheduler cannot start that is not its configuration (exit 1). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

export const EXIT_CONFIG = 2;
export const EXIT_STARTUP = 1;

/** The stderr line and exit code of an error that stopped the start. */
export function startupFailure(err: unknown): { line: string; exitCode: number } {
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ").trim();
  if (err instanceof ConfigError) {
    const what = err.problems.length === 1 ? err.problems[0]! : err.problems.join("; ");
    return {
      line: `scaleio-framework: invalid configuration: ${oneLine(what)}`,
      exitCode: EXIT_CONFIG,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { line: `scaleio-framework: ${oneLine(message)}`, exitCode: EXIT_STARTUP };
}

/** A usage error of the command line (commander's "error: …"), in the same one-line form. */
export function usageErrorLine(text: string): string {
  return `scaleio-framework: ${text
    .replace(/^error: /, "")
    .replace(/\s*\n\s*/g, " ")
    .trim()}\n`;
}

/** What the API's listen failure means, with the setting to change. */
export function listenFailure(err: unknown, address: string, port: number): StartupError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const at = `${address}:${port}`;
  const why =
    code === "EADDRINUSE"
      ? "the address is already in use (another scheduler, or another program, listens there); choose another --api-port"
      : code === "EACCES"
        ? "permission denied (ports below 1024 need privileges); choose another --api-port"
        : code === "EADDRNOTAVAIL"
          ? "no network interface of this machine has that address; check --api-address"
          : ((err as Error | undefined)?.message ?? String(err));
  return new StartupError(`cannot serve the API on ${at}: ${why}`);
}

/** What the state store's failure to open means (its directory, unwritable or in use). */
export function stateFailure(err: unknown, dir: string): StartupError {
  const e = err as NodeJS.ErrnoException & { code?: string };
  if (e?.code === "LOCKED") return new StartupError(e.message);
  const why =
    e?.code === "EACCES" || e?.code === "EPERM"
      ? "permission denied"
      : e?.code === "ENOTDIR" || e?.code === "EEXIST"
        ? "a file is in the way"
        : e?.code === "EROFS"
          ? "read-only file system"
          : (e?.message ?? String(err));
  return new StartupError(`cannot use the state directory ${resolve(dir)} (--state-dir): ${why}`);
}

const show = (v: unknown) =>
  typeof v === "string"
    ? v
    : Array.isArray(v) || typeof v === "object"
      ? JSON.stringify(v)
      : String(v);

/** A description without the default it states itself ("…; default 1024)"), shown apart. */
export function withoutStatedDefault(description: string): string {
  return description.replace(/\s*\(default[^()]*\)$/, "").replace(/;\s*default [^;()]*\)$/, ")");
}

/** A flag's help: its description, then its default and its environment variable. */
export function flagHelp(flag: string, spec: { path: string[]; description: string }): string {
  const def = defaultAt(spec.path);
  // Descriptions written before defaults were shown state some themselves.
  const text = def === undefined ? spec.description : withoutStatedDefault(spec.description);
  const parts = [...(def !== undefined ? [`default: ${show(def)}`] : []), `env: ${envName(flag)}`];
  return `${text} (${parts.join("; ")})`;
}

/** How the deployment is meant to go, in words. */
export function deploymentMode(config: SchedulerConfig): string {
  const sc = config.scaleio;
  const how =
    sc.strategy === "declarative"
      ? `declarative topology ${sc.topologyFile}`
      : `${sc.strategy} (protection domain ${sc.protectionDomain}, pool ${sc.storagePool})`;
  const cluster = sc.existing
    ? `existing ScaleIO cluster '${sc.clusterName}' (MDMs ${sc.existing.primary}, ${sc.existing.secondary}, tie-breaker ${sc.existing.tiebreaker})`
    : `provisioning ScaleIO cluster '${sc.clusterName}' with ${sc.mdmCount} MDMs`;
  return `${cluster}, strategy ${how}`;
}

/** The API's URL as configured (the port is known only once listening when it is 0). */
export function configuredApiUrl(config: SchedulerConfig, host: string): string {
  const scheme = config.api.tlsCertFile ? "https" : "http";
  return `${scheme}://${host}:${config.api.port === 0 ? "<any free port>" : config.api.port}`;
}

/** The first log line's fields and message. */
export function startLine(
  config: SchedulerConfig,
  opts: { master: string; apiUrl: string; version: string },
): { fields: Record<string, string>; msg: string } {
  const state = describeLocation(stateLocation(config.state));
  const mode = deploymentMode(config);
  return {
    fields: { version: opts.version, master: opts.master, state, api: opts.apiUrl, mode },
    msg: `starting scaleio-framework ${opts.version}: Mesos master ${opts.master}, state in ${state}, API at ${opts.apiUrl}, ${mode}`,
  };
}
