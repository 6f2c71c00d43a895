// Running scli on the node and reading its answers: argument arrays only (passwords go to
// its standard input, never into them), the admin password redacted from every error, and the `--query_cluster` layout of reference 3.3
// parsed into members.
import { run as spawnProgram } from "../../../host/process.js";
import type { ProgramRunner } from "../../../host/profile.js";

export const SCLI_TIMEOUT_MS = 120_000;

export interface ScliOutcome {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs `scli <args>`. A non-zero exit is an answer, not an exception (callers read the error
 * text); a missing scli, a timeout or an abort still throw HostCommandError.
 */
export async function scli(
  args: string[],
  opts: {
    signal: AbortSignal;
    redact?: string[];
    run?: ProgramRunner;
    /** Standard input: passwords scli prompts for, never put in `args` (/proc/<pid>/cmdline). */
    input?: string;
  },
): Promise<ScliOutcome> {
  const r = await (opts.run ?? spawnProgram)("scli", args, {
    check: false,
    timeoutMs: SCLI_TIMEOUT_MS,
    signal: opts.signal,
    redact: opts.redact ?? [],
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr };
}

export const NO_SESSION = /Invalid session/i;
export const BAD_LOGIN = /Permission denied|invalid user name or password|Invalid password/i;
export const NOT_CONNECTED = /Failed to connect/i;

export interface ClusterMember {
  name: string;
  id: string;
  ips: string[];
  role: "master" | "slave" | "tb" | "standby";
  /** For standbys: manager or tie-breaker. */
  manager?: boolean;
  status?: string;
}

export interface ClusterView {
  mode: string;
  state: string;
  active: string;
  replicas: string;
  members: ClusterMember[];
}

/** Parses `scli --query_cluster` (2.0 layout; 2.5+ `Name:` prefix on the first line tolerated). */
export function parseQueryCluster(text: string): ClusterView {
  const head =
    /Mode:\s*(\w+),\s*State:\s*([\w ]+?),\s*Active:\s*(\d+\/\d+),\s*Replicas:\s*(\d+\/\d+)/.exec(
      text,
    );
  if (!head) throw new Error(`unexpected scli --query_cluster output: ${text.slice(0, 200)}`);
  const members: ClusterMember[] = [];
  let section: ClusterMember["role"] | undefined;
  let current: ClusterMember | undefined;
  for (const line of text.split("\n")) {
    if (/^Master MDM:/.test(line)) section = "master";
    else if (/^Slave MDMs:/.test(line)) section = "slave";
    else if (/^Tie-Breakers:/.test(line)) section = "tb";
    else if (/^Standby MDMs:/.test(line)) section = "standby";
    else if (/^\S/.test(line)) section = undefined;
    const m = /^ {4}Name:\s*([^,]+),\s*ID:\s*(0x[0-9a-fA-F]+)(?:,\s*(Manager|Tie Breaker))?/.exec(
      line,
    );
    if (m && section) {
      current = { name: m[1]!.trim(), id: m[2]!, ips: [], role: section };
      if (m[3]) current.manager = m[3] === "Manager";
      members.push(current);
      continue;
    }
    const ips = /^ {8}IPs:\s*([^,]+(?:,\s*\d[\d.]*)*)/.exec(line);
    if (ips && current)
      current.ips = ips[1]!
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const status = /Status:\s*([^,]+)/.exec(line);
    if (status && current && /^ {8}/.test(line)) current.status = status[1]!.trim();
  }
  return { mode: head[1]!, state: head[2]!.trim(), active: head[3]!, replicas: head[4]!, members };
}
