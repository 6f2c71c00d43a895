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
  .version(pkg.version, "-V, --version", "print the version");

await program.parseAsync(process.argv);
