// The `scaleio-framework` command line.
import { Command } from "commander";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
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
    "\nDevelopment:\n  dev ...  a Mesos-compatible development cluster and a ScaleIO emulator\n           (see `scaleio-framework dev --help`)",
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

await program.parseAsync(process.argv);
