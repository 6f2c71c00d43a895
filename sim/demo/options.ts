// The demo's command line, parsed like every other command's: `--help` prints help and exits
// 0; an unknown option or a bad value is a usage error (exit 2), said before anything starts.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DemoArgs {
  agents: number;
  exitWhenHealthy: boolean;
  failover: boolean;
  /** Where the scheduler's JSON log goes (kept after the demo ends). */
  logFile: string;
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
    .option(
      "--log <file>",
      "the scheduler's JSON log (default: a new file in the temporary folder, printed)",
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
  }>();
  return {
    agents: o.agents,
    exitWhenHealthy: o.exitWhenHealthy,
    failover: o.failover,
    logFile:
      o.log ??
      join(
        tmpdir(),
        `scaleio-demo-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`,
      ),
  };
}
