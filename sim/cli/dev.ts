// `scaleio-framework dev ...`: development doubles of the outside world (Mesos, ScaleIO).
// Lives under sim/ so that nothing in src/ imports it; bin/scaleio-framework routes here.
import { Command } from "commander";
import { registerDevScaleio } from "../scaleio/cli.js";
import { registerDevMesos } from "../mesos/cli.js";

export async function runDev(argv: string[]): Promise<void> {
  const program = new Command("scaleio-framework dev").description(
    "development doubles of the outside world: a Mesos-compatible cluster, a ScaleIO emulator",
  );
  // Each emulator registers its own subcommand here.
  registerDevScaleio(program);
  registerDevMesos(program);
  await program.parseAsync(argv, { from: "user" });
}
