// A standalone master process: `node main.js '<MasterOptions JSON>'`. Prints
// `master: <url>` once listening; stops on SIGINT/SIGTERM. Used by the benchmark so the
// master's own memory can be measured apart from its clients. SIM_VERBOSE=1 logs to stderr.
import { Master, type MasterOptions } from "./master.js";

const opts = JSON.parse(process.argv[2] ?? "{}") as MasterOptions;
const master = new Master({
  ...opts,
  ...(process.env.SIM_VERBOSE ? { log: (l: string) => process.stderr.write(`${l}\n`) } : {}),
});
await master.start();
process.stdout.write(`master: ${master.url}\n`);
const stop = () => void master.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.on("disconnect", stop);
