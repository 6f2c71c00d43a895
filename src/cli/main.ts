// The `scaleio-framework` command line.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../common/paths.js";
import { registerOperatorCommands } from "./operator/commands.js";
import { EXIT } from "./operator/client.js";
import { registerStateCommands } from "./state.js";
import { legacyStateCommand } from "./state-aliases.js";

const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  version: string;
  description: string;
};

const program = new Command();
// Usage errors exit 2 (scripts tell them from API errors, 1); help and version exit 0.
program.exitOverride();
program
  .name("scaleio-framework")
  .description(pkg.description)
  .version(pkg.version, "-V, --version", "print the version")
  .addHelpText(
    "after",
    "\nExit codes of the operator verbs: 0 ok, 1 API error or unreachable, 2 usage error,\n3 `status`: not healthy, 4 the API refused the token.\n\nDevelopment:\n  dev ...  a Mesos-compatible development cluster and a ScaleIO emulator\n           (see `scaleio-framework dev --help`)\n  demo [--agents N] [--exit-when-healthy] [--failover] [--log FILE]\n       [--schedulers N --state zk://HOST:PORT/PATH]\n           the whole product on this machine: dev cluster, emulator, scheduler",
  );

program
  .command("executor")
  .description(
    "run as the Mesos executor on an agent (started by Mesos; reads MESOS_* and SCALEIO_FRAMEWORK_* variables)",
  )
  .action(async () => {
    const { runExecutor } = await import("../executor/main.js");
    process.exit(await runExecutor());
  });

// The operator verbs start quickly: the scheduler's modules (server, platforms, Mesos) are
// loaded only when something else is asked for.
const OPERATOR_VERBS = new Set(["status", "nodes", "plan", "events", "state"]);
let argv = process.argv;
// The predecessor's store operations (`-store.dump`, `-store.add.key K ...`) are `state` verbs.
const legacyState = legacyStateCommand(process.argv.slice(2));
if (legacyState && "problem" in legacyState) {
  process.stderr.write(`scaleio-framework: ${legacyState.problem}\n`);
  process.exit(EXIT.usage);
}
if (legacyState) {
  for (const n of legacyState.notices) process.stderr.write(`scaleio-framework: notice: ${n}\n`);
  argv = [process.argv[0]!, process.argv[1]!, ...legacyState.argv];
} else if (!OPERATOR_VERBS.has(process.argv[2] ?? "")) {
  const { preprocessArgs, registerScheduler } = await import("./scheduler.js");
  // The scheduler accepts the 2017 predecessor's flags (e.g. -scaleio.password=...).
  const pre =
    process.argv[2] === "scheduler"
      ? preprocessArgs(process.argv)
      : { argv: process.argv, notices: [] };
  argv = pre.argv;
  registerScheduler(program, pkg.version, pre.notices);
}
registerOperatorCommands(program);
registerStateCommands(program);

try {
  await program.parseAsync(argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
}
