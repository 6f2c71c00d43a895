// Schedulers as the product runs them: each the real `scaleio-framework scheduler` command in
// a process of its own (from dist/; it also ends when the demo's process is gone), all on one
// shared state. With the state in ZooKeeper one leads and the others stand by, so
// `demo --schedulers 2` shows the election, and killing the leader shows a standby taking
// over. Each process's output goes to its own log file; its one-line errors
// (`scaleio-framework: ...`) are also passed on, naming the scheduler.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
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
  /** The schedulers now (a restarted one has a new API URL). */
  readonly schedulers: SchedulerProcess[];
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
  exited: Promise<void>;
  /** The process has ended and its output is in its log. */
  closed: Promise<void>;
}

function startOne(
  index: number,
  o: SchedulerGroupOptions,
): { running: Running; listening: Promise<string> } {
  const main = SCHEDULER_MAIN();
  // The demo may run from its sources (tests): its schedulers always run from dist/.
  if (!existsSync(main)) throw new Error(`${main} is missing: build the project (npm run build)`);
  const logFile = o.logFile(index);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [main, "scheduler", ...flagArgs(o.flags)], {
    // The IPC channel only tells the scheduler when the demo is gone.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const proc: SchedulerProcess = { index, apiUrl: "", logFile };
  // Not started at all (no exit follows): said in its log and to the demo.
  child.once("error", (err) => {
    log.write(`scaleio-framework demo: scheduler ${index} not started: ${err.message}\n`);
    o.notice?.(`scheduler ${index}: not started: ${err.message}`);
  });
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
  const closed = new Promise<void>((resolve) =>
    child.once("close", () => log.end(() => resolve())),
  );
  return { running: { proc, child, exited, closed }, listening: started };
}

/** Restarts of one deposed scheduler, at most: a scheduler deposed again and again is shown ended. */
const MAX_RESTARTS = 3;

export function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `signal ${e.signal}` : `exit ${e.code}`;
}

export async function startSchedulerGroup(o: SchedulerGroupOptions): Promise<SchedulerGroup> {
  const running: Running[] = [];
  const getJson = async <T>(url: string, timeoutMs = 5_000): Promise<T | undefined> => {
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${o.apiToken}` },
        signal: AbortSignal.timeout(timeoutMs),
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
  const restarts = new Map<number, number>();
  /**
   * Says when a scheduler ends. One that stopped itself (a deposed leader exits 6, one that
   * Mesos failed over 5) is started again to stand by, as its supervisor (Marathon) would, a
   * few times at most; one stopped by a signal (someone killed it) stays down.
   */
  const watch = (i: number, r: Running) =>
    void r.exited.then(() => {
      if (stopping) return;
      o.notice?.(`scheduler ${i} ended (${describeExit(r.proc.exit!)})`);
      const n = restarts.get(i) ?? 0;
      if (!r.proc.exit!.code || n >= MAX_RESTARTS) return;
      restarts.set(i, n + 1);
      let again: ReturnType<typeof startOne>;
      try {
        again = startOne(i, o);
      } catch (err) {
        o.notice?.(`scheduler ${i} not started again: ${(err as Error).message}`);
        return;
      }
      running[i - 1] = again.running;
      again.listening.then(
        (url) => {
          o.notice?.(`scheduler ${i} started again to stand by: ${url}`);
          watch(i, again.running);
        },
        (err: unknown) => o.notice?.((err as Error).message),
      );
    });
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
          await r.closed;
        }),
      );
    })());
  try {
    // One after the other: the first to start is the first candidate, so it leads.
    for (let i = 1; i <= o.count; i++) {
      const s = startOne(i, o);
      running.push(s.running);
      await s.listening;
      watch(i, s.running);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    get schedulers() {
      return running.map((r) => r.proc);
    },
    getJson,
    leader: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const live = running.filter((r) => !r.proc.exit);
        const answers = await Promise.all(
          live.map(async (r) => ({
            url: r.proc.apiUrl,
            a: await getJson<LeaderAnswer>(`${r.proc.apiUrl}/v1/leader`, 2_000),
          })),
        );
        // A leader paused past its session still says it leads until it notices: of those
        // that say so, the one elected last leads.
        const claims = answers
          .filter((x) => x.a?.leader)
          .sort((x, y) => (x.a!.since ?? "").localeCompare(y.a!.since ?? ""));
        if (claims.length > 0) return claims[claims.length - 1]!.url;
        // Else a standby names the leader (once the leader has published itself).
        const named = answers.find((x) => live.some((r) => r.proc.apiUrl === x.a?.api));
        if (named) return named.a!.api!;
        if (live.length === 0)
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
