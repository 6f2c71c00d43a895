// `scaleio-framework dev scaleio`: runs the ScaleIO emulator standalone. Prints exactly one
// line, `gateway: <url>`, when ready; SIGINT/SIGTERM stop it.
import type { Command } from "commander";
import { startEmulator } from "./emulator.js";
import type { ClusterMode } from "./model/types.js";

interface Opts {
  port: string;
  host: string;
  controlPort: string;
  http?: boolean;
  apiVersion: string;
  stateDir?: string;
  empty?: boolean;
  mode: string;
  sds: string;
  sdc: string;
  deviceGb: string;
  timeScale: string;
}

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${flag}: not a port number: ${v}`);
  return n;
}

export function registerDevScaleio(program: Command): void {
  program
    .command("scaleio")
    .description(
      "run the ScaleIO emulator: REST gateway, scli/drv_cfg/package control endpoint, admin knobs",
    )
    .option("--port <n>", "gateway port (0: any free port)", "0")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option(
      "--control-port <n>",
      "control endpoint port for node-side tools and /admin (0: any)",
      "0",
    )
    .option("--http", "serve the gateway over plain HTTP instead of HTTPS")
    .option("--api-version <v>", "gateway API version to emulate (2.0 or 3.x)", "2.0")
    .option("--state-dir <dir>", "where emulator.json, the CA, volumes and the package repo go")
    .option("--empty", "start with no cluster (build it with packages and scli)")
    .option("--mode <mode>", "MDM cluster mode of the ready-made cluster", "3_node")
    .option("--sds <n>", "SDS count of the ready-made cluster", "3")
    .option("--sdc <n>", "SDC count of the ready-made cluster", "0")
    .option("--device-gb <n>", "device size of the ready-made cluster", "100")
    .option("--time-scale <x>", "run emulated time this many times faster (rebuilds)", "1")
    .action(async (opts: Opts) => {
      // The admin password comes from the environment, never from the command line.
      const password = process.env.SCALEIO_SIM_ADMIN_PASSWORD ?? "Scaleio123";
      const emu = await startEmulator({
        host: opts.host,
        port: port(opts.port, "--port"),
        controlPort: port(opts.controlPort, "--control-port"),
        http: !!opts.http,
        apiVersion: opts.apiVersion,
        stateDir: opts.stateDir,
        bootstrap: opts.empty
          ? false
          : {
              mode: opts.mode as ClusterMode,
              sdsCount: Number(opts.sds),
              sdcCount: Number(opts.sdc),
              deviceGb: Number(opts.deviceGb),
              password,
            },
      });
      const scale = Number(opts.timeScale);
      if (scale !== 1 && emu.sys.clock.setFactor) emu.sys.clock.setFactor(scale);
      process.stdout.write(`gateway: ${emu.gatewayUrl}\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void emu.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
