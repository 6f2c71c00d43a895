// The demo's command line, parsed like every other command's: `--help` prints help and exits
// 0; an unknown option or a bad value is a usage error (exit 2), said before anything starts.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDuration } from "../../src/cli/config/duration.js";
import { stateUrlProblem } from "../../src/store/open-store.js";
import { EMULATED_OS_NAMES, parseOsList, type EmulatedOsName } from "../mesos/emulated-os.js";

export interface DemoArgs {
  agents: number;
  exitWhenHealthy: boolean;
  failover: boolean;
  /** Where the scheduler's JSON log goes (kept after the demo ends). */
  logFile: string;
  /** How long the deploy may take before the demo gives up (grows with the agents). */
  deadlineMs: number;
  /**
   * Agents share host processes and run their executors inside them (as the deploy benchmark
   * does), instead of a process per agent and per executor.
   */
  sharedProcesses: boolean;
  /** Emulated operating systems of the agents, round robin (`--os`); none: the plain emulated host. */
  os?: EmulatedOsName[];
  /** Schedulers started (`--schedulers`): one leads, the others stand by. */
  schedulers: number;
  /** Where the schedulers keep their state (`--state`, a URL the scheduler accepts). */
  state?: string;
}

/** The demo provisions a 3-node MDM cluster: fewer agents could never become healthy. */
export const MIN_AGENTS = 3;

function agentCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError("a whole number of agents, at least 1");
  if (n < MIN_AGENTS)
    throw new InvalidArgumentError(
      `the demo's 3-node MDM cluster needs at least ${MIN_AGENTS} agents`,
    );
  if (n > 200) throw new InvalidArgumentError("at most 200 agents on one machine");
  return n;
}

/** More schedulers than this on one machine show nothing more: one leads, the rest wait. */
export const MAX_SCHEDULERS = 5;

function schedulerCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError("a whole number of schedulers, at least 1");
  if (n > MAX_SCHEDULERS)
    throw new InvalidArgumentError(`at most ${MAX_SCHEDULERS} schedulers on one machine`);
  return n;
}

function stateUrl(value: string): string {
  const v = value.trim();
  // A bare word is the likeliest slip: say what a URL looks like, and who runs ZooKeeper.
  if (/^zk$/i.test(v))
    throw new InvalidArgumentError(
      "a ZooKeeper URL such as zk://127.0.0.1:2181/scaleio-demo (the demo does not start ZooKeeper: run it yourself)",
    );
  const problem = stateUrlProblem(v);
  if (problem) throw new InvalidArgumentError(problem);
  return v;
}

/** From this many agents on, agents share host processes unless told otherwise. */
export const SHARED_FROM_AGENTS = 11;

/**
 * The deploy's default deadline: 120 s up to 20 agents, then 3 s more per agent. With a
 * process per agent and per executor a deploy took about 2 s per agent on this 2-core machine
 * under load (20 agents in 39 s; the fixed 120 s failed at about 90 agents); shared processes
 * take far less (100 agents in 11 s, 200 in 55 s). A deadline only catches a stuck deploy:
 * too long costs a wait, too short fails a healthy one.
 */
export function defaultDeadlineMs(agents: number): number {
  return Math.max(120_000, 60_000 + 3_000 * agents);
}

const MIN_DEADLINE_MS = 10_000;
const MAX_DEADLINE_MS = 24 * 3_600_000;

function deadline(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError("a duration such as 90s, 10m or 1h30m");
  if (ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS)
    throw new InvalidArgumentError(
      `between ${MIN_DEADLINE_MS / 1000} s and ${MAX_DEADLINE_MS / 3_600_000} h`,
    );
  return ms;
}

/**
 * Parses the demo's arguments. Returns undefined when help was printed (exit 0); throws a
 * CommanderError (exitCode 2 for usage errors, message already printed) otherwise.
 */
export function parseDemoArgs(
  argv: string[],
  out: { stdout: (s: string) => void; stderr: (s: string) => void } = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  },
): DemoArgs | undefined {
  const program = new Command("scaleio-framework demo")
    .description(
      "the whole product on this machine: a development Mesos cluster, the ScaleIO emulator and the scheduler, which deploys ScaleIO and proves it healthy",
    )
    .addOption(
      new Option("--agents <n>", "agents to start (the first three get two raw devices each)")
        .argParser(agentCount)
        .default(5),
    )
    .option("--exit-when-healthy", "stop everything and exit 0 once healthy", false)
    .option("--failover", "then walk through an application's data failing over", false)
    .addOption(
      new Option(
        "--deadline <duration>",
        "how long the deploy may take (90s, 10m...; default: 120s, plus 3s per agent beyond 20)",
      ).argParser(deadline),
    )
    .option(
      "--shared-processes",
      `agents share host processes and run their executors inside them (default from ${SHARED_FROM_AGENTS} agents, without --failover)`,
    )
    .option(
      "--no-shared-processes",
      "a process per agent and per executor, as on real machines (default below that)",
    )
    .option(
      "--os <list>",
      `emulated OS of the agents, round robin: ${EMULATED_OS_NAMES.join(", ")} (comma list), or mixed (one of each kind)`,
      (v: string) => {
        try {
          return parseOsList(v);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      },
    )
    .addOption(
      new Option(
        "--schedulers <n>",
        "schedulers to start: one leads, the others stand by (2 or more need --state zk://...)",
      )
        .argParser(schedulerCount)
        .default(1),
    )
    .option(
      "--state <url>",
      "where the schedulers keep their state, as the scheduler's --state: zk://host:port/path (a ZooKeeper you run; each scheduler then runs as its own process) or file:///path (default: a folder in the demo's temporary folder)",
      stateUrl,
    )
    .option(
      "--log <file>",
      "the scheduler's JSON log (default: a new file in the temporary folder, printed); with several schedulers, scheduler i's log is <file> with -i before its extension",
    )
    .addHelpText(
      "after",
      `
High availability, with a ZooKeeper you run (the demo does not start one):
  scaleio-framework demo --schedulers 2 --state zk://127.0.0.1:2181/scaleio-demo
prints "api: <url> (leader)" and "api: <url> (standby)" and a log per scheduler; kill the
leader's process and the standby finishes the deploy. The state path must hold no state:
each demo starts afresh.`,
    )
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr });
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return undefined;
    if (err instanceof CommanderError) throw Object.assign(err, { exitCode: 2 });
    throw err;
  }
  const o = program.opts<{
    agents: number;
    exitWhenHealthy: boolean;
    failover: boolean;
    log?: string;
    deadline?: number;
    sharedProcesses?: boolean;
    os?: EmulatedOsName[];
    schedulers: number;
    state?: string;
  }>();
  // Two schedulers on separate state would be two frameworks deploying the same machines.
  if (o.schedulers > 1 && !/^zk:\/\//i.test(o.state ?? ""))
    program.error(
      `error: --schedulers ${o.schedulers} needs their shared state in ZooKeeper: add --state zk://host:port/path (a ZooKeeper you run)`,
      { exitCode: 2, code: "demo.schedulersState" },
    );
  // The failover walk-through kills one agent alone: that needs a process of its own.
  if (o.failover && o.sharedProcesses === true)
    program.error(
      "error: --failover kills one agent alone: it cannot run with --shared-processes",
      {
        exitCode: 2,
        code: "demo.failoverShared",
      },
    );
  return {
    agents: o.agents,
    exitWhenHealthy: o.exitWhenHealthy,
    failover: o.failover,
    deadlineMs: o.deadline ?? defaultDeadlineMs(o.agents),
    ...(o.os ? { os: o.os } : {}),
    sharedProcesses: o.sharedProcesses ?? (!o.failover && o.agents >= SHARED_FROM_AGENTS),
    schedulers: o.schedulers,
    ...(o.state ? { state: o.state } : {}),
    logFile:
      o.log ??
      join(
        tmpdir(),
        `scaleio-demo-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`,
      ),
  };
}
