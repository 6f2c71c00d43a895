// The `scaleio-framework` command line.
import { Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../common/paths.js";
import { preprocessArgs, registerScheduler } from "./scheduler.js";

const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  version: string;
  description: string;
};

const program = new Command();
program
  .name("scaleio-framework")
  .description(pkg.description)
  .version(pkg.version, "-V, --version", "print the version")
  .addHelpText(
    "after",
    "\nDevelopment:\n  dev ...  a Mesos-compatible development cluster and a ScaleIO emulator\n           (see `scaleio-framework dev --help`)\n  demo [--agents N] [--exit-when-healthy] [--failover]\n           the whole product on this machine: dev cluster, emulator, scheduler",
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

// The scheduler accepts the 2017 predecessor's flags (e.g. -scaleio.password=...).
const { argv, notices } =
  process.argv[2] === "scheduler"
    ? preprocessArgs(process.argv)
    : { argv: process.argv, notices: [] };
registerScheduler(program, pkg.version, notices);

await program.parseAsync(argv);
