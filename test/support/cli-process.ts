// The command line as a child process for integration tests: `scaleio-framework <args>` run
// from the TypeScript sources (no build needed), its output collected, its exit awaited.
// Every process started here is SIGKILLed by killAll() (call it in `after`), so a failing
// test leaves nothing running. Requests to it are bounded: a server that accepts and never
// answers fails the test by name instead of running into the test's timeout.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitUntil, withDeadline } from "./wait.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** The password every test scheduler is given (no test relies on its value). */
export const TEST_ADMIN_PASSWORD = "Sched-Adm1n-pw";
/** How long one request to a process under test may take. */
export const REQUEST_MS = 10_000;

export interface CliProcess {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** Runs `scaleio-framework ...args` with the test's environment plus `env`. */
export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      started.delete(child);
      r(code);
    }),
  );
  return { child, out: () => out, err: () => err, exited };
}

/** SIGKILLs every process runCli started that is still running. */
export function killAll(): void {
  for (const c of started) c.kill("SIGKILL");
}

export interface SchedulerProcess extends CliProcess {
  /** The URL of its `api:` line. */
  api: string;
}

/**
 * `scheduler` on 127.0.0.1 with a free port and the test password, plus `args`; resolves once
 * it printed its `api:` line (a standby prints it too).
 */
export async function startSchedulerProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<SchedulerProcess> {
  const p = runCli(["scheduler", "--api-address", "127.0.0.1", "--api-port", "0", ...args], {
    SCALEIO_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    ...env,
  });
  await waitUntil(() => /^api: http:\/\/127\.0\.0\.1:\d+$/m.test(p.out()) || exitedEarly(p), {
    timeoutMs: 60_000,
    what: `the api: line (stderr: ${p.err().slice(-2000)})`,
  });
  const api = /^api: (\S+)$/m.exec(p.out())?.[1];
  if (!api) throw new Error(`the scheduler exited before serving:\n${p.err().slice(-4000)}`);
  return { ...p, api };
}

function exitedEarly(p: CliProcess): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

/** The framework ids a scheduler logged on subscribing, in order. */
export function subscribedIds(p: CliProcess): string[] {
  const ids: string[] = [];
  for (const line of p.err().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; frameworkId?: string };
      if (j.msg === "subscribed to mesos" && j.frameworkId) ids.push(j.frameworkId);
    } catch {
      // a partial line still being written: read again at the next poll
    }
  }
  return ids;
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** GET (or another method) and its JSON answer, bounded. */
export async function requestJson(url: string, init: RequestInit = {}): Promise<JsonAnswer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS), ...init });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** The status of GET url, or 0 while nothing listens there (not yet, or no longer). */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET") return 0;
    throw err;
  }
}

/** A scheduler with its state in ZooKeeper (it joins the election), with a short session. */
export const startZkScheduler = (master: string, state: string, sessionMs = 4000) =>
  startSchedulerProcess([
    "--master",
    master,
    "--state",
    state,
    "--zk-session-timeout-ms",
    String(sessionMs),
  ]);

/** SIGTERM, then the exit code (a clear failure if it does not exit in time). */
export async function sigterm(
  p: CliProcess,
  what: string,
  timeoutMs = 20_000,
): Promise<number | null> {
  p.child.kill("SIGTERM");
  return withDeadline(p.exited, timeoutMs, `${what}: exit after SIGTERM`);
}
