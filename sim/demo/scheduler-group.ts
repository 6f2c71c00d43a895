// Schedulers as the product runs them: each the real `scaleio-framework scheduler` command in
// a process of its own (from dist/; it also ends when the demo's process is gone), all on one
// shared state. With the state in ZooKeeper one leads and the others stand by, so
// `demo --schedulers 2` shows the election, and killing the leader shows a standby taking
// over. Each process's output goes to its own log file; its one-line errors
// (`scaleio-framework: ...`) are also passed on, naming the scheduler.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../../src/common/paths.js";
import type { LeaderAnswer } from "../../src/api/routes/leader.js";

export interface SchedulerProcess {
  /** 1, 2, ... in the order they were started. */
  index: number;
  apiUrl: string;
  logFile: string;
  /** Set once the process has ended. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export interface SchedulerGroupOptions {
  count: number;
  /** The scheduler's flags (name without dashes to value; undefined: left out). */
  flags: Record<string, string | undefined>;
  /** Log file of each scheduler, by index (1-based). */
  logFile: (index: number) => string;
  /** The operator API token, for reading the schedulers' APIs. */
  apiToken: string;
  /** How long a scheduler may take to listen (default 60 s). */
  startTimeoutMs?: number;
  /** Lines worth showing: a scheduler's one-line errors and its exit. */
  notice?: (line: string) => void;
}

export interface SchedulerGroup {
  schedulers: SchedulerProcess[];
  /** The leader's API URL, as the schedulers answer GET /v1/leader (waits for one). */
  leader(timeoutMs: number): Promise<string>;
  /** GET a path of an API with the token; undefined unless it answers 200 with JSON. */
  getJson<T>(url: string): Promise<T | undefined>;
  /** SIGTERM to every scheduler still running; SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** The scheduler command, from dist/ as the product runs it (scheduler-child.ts). */
const SCHEDULER_MAIN = () => join(packageRoot(), "dist", "sim", "demo", "scheduler-child.js");

/** `--name value` pairs, in the order given, without the undefined ones. */
export function flagArgs(flags: Record<string, string | undefined>): string[] {
  return Object.entries(flags).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v]));
}

/** Scheduler i's log: the demo's log itself for one scheduler, else `<name>-<i><ext>`. */
export function schedulerLogFile(logFile: string, index: number, count: number): string {
  if (count === 1) return logFile;
  const m = /^(.*?)(\.[^./]*)?$/.exec(logFile)!;
  return `${m[1]}-${index}${m[2] ?? ""}`;
}

interface Running {
  proc: SchedulerProcess;
  child: ChildProcess;
  log: WriteStream;
  exited: Promise<void>;
}

function startOne(
  index: number,
  o: SchedulerGroupOptions,
): { running: Running; listening: Promise<string> } {
  const logFile = o.logFile(index);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [SCHEDULER_MAIN(), "scheduler", ...flagArgs(o.flags)], {
    // The IPC channel only tells the scheduler when the demo is gone.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const proc: SchedulerProcess = { index, apiUrl: "", logFile };
  // The last line of its own (not JSON) it said: why it stopped, when it stops at start.
  let said = "";
  let onApi: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => (onApi = resolve));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      proc.exit = { code, signal };
      resolve();
    }),
  );
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const m = /^api: (\S+)/.exec(line);
    if (m && !proc.apiUrl) {
      proc.apiUrl = m[1]!;
      onApi(proc.apiUrl);
    }
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    if (line.startsWith("{")) return; // the JSON log: in the file
    said = line;
    o.notice?.(`scheduler ${index}: ${line}`);
  });
  const timeoutMs = o.startTimeoutMs ?? 60_000;
  const started = Promise.race([
    listening,
    exited.then(() => {
      throw new Error(
        `scheduler ${index} stopped before its API listened (${describeExit(proc.exit!)})${said ? `: ${said}` : ""}; its log: ${logFile}`,
      );
    }),
    new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `scheduler ${index}'s API did not listen within ${timeoutMs / 1000} s; its log: ${logFile}`,
            ),
          ),
        timeoutMs,
      ).unref(),
    ),
  ]);
  return { running: { proc, child, log, exited }, listening: started };
}

export function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `signal ${e.signal}` : `exit ${e.code}`;
}

export async function startSchedulerGroup(o: SchedulerGroupOptions): Promise<SchedulerGroup> {
  const running: Running[] = [];
  const getJson = async <T>(url: string): Promise<T | undefined> => {
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${o.apiToken}` },
        signal: AbortSignal.timeout(5_000),
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        return undefined;
      }
      return (await res.json()) as T;
    } catch {
      // Not listening (a leader hands its port over to its full API), or gone: ask again.
      return undefined;
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 20_000): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(
        running.map(async (r) => {
          if (!r.proc.exit) {
            r.child.kill("SIGTERM");
            const killer = setTimeout(() => r.child.kill("SIGKILL"), graceMs);
            await r.exited;
            clearTimeout(killer);
          }
          await new Promise<void>((resolve) => r.log.end(resolve));
        }),
      );
    })());
  try {
    // One after the other: the first to start is the first candidate, so it leads.
    for (let i = 1; i <= o.count; i++) {
      const s = startOne(i, o);
      running.push(s.running);
      await s.listening;
      void s.running.exited.then(() => {
        if (!stopping) o.notice?.(`scheduler ${i} ended (${describeExit(s.running.proc.exit!)})`);
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    schedulers: running.map((r) => r.proc),
    getJson,
    leader: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const r of running) {
          if (r.proc.exit) continue;
          const a = await getJson<LeaderAnswer>(`${r.proc.apiUrl}/v1/leader`);
          if (a?.leader) return r.proc.apiUrl;
          // A standby names the leader (once the leader has published itself).
          const named = a?.api && running.find((x) => x.proc.apiUrl === a.api && !x.proc.exit);
          if (named) return named.proc.apiUrl;
        }
        if (running.every((r) => r.proc.exit))
          throw new Error(
            `no scheduler is running (${running.map((r) => `scheduler ${r.proc.index}: ${describeExit(r.proc.exit!)}`).join(", ")})`,
          );
        if (Date.now() > deadline)
          throw new Error(`no scheduler leads after ${Math.round(timeoutMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop,
  };
}
