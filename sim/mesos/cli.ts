// `scaleio-framework dev mesos`: a master and agents on loopback addresses until SIGINT or
// SIGTERM, then everything started is stopped (agent processes and their executors). Each
// agent is an emulated host unless --host-passthrough says otherwise (emulated-host.ts).
import { Command, InvalidArgumentError } from "commander";
import { join } from "node:path";
import { startDevCluster } from "./cluster.js";
import {
  EMULATED_OS_NAMES,
  emulatedOsKernel,
  osOfAgent,
  parseOsList,
  prepareEmulatedOs,
  type EmulatedOsName,
} from "./emulated-os.js";

function int(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

export function registerDevMesos(program: Command): void {
  program
    .command("mesos")
    .description("run a Mesos-compatible master and agents on loopback addresses")
    .option("--agents <n>", "number of agents", int("--agents", 0), 3)
    .option("--port <port>", "master port (0 = any free port)", int("--port", 0), 5050)
    .option("--host <ip>", "master address (loopback)", "127.0.0.1")
    .option("--zk <url>", "register the master in ZooKeeper, e.g. zk://127.0.0.1:2181/mesos")
    .option(
      "--agents-per-process <n>",
      "agents hosted per process (many-agents mode)",
      int("--agents-per-process", 1),
    )
    .option("--heartbeat <secs>", "scheduler heartbeat interval in seconds", Number, 15)
    .option("--verbose", "log master and agent activity to stderr", false)
    .option(
      "--os <list>",
      `emulated operating system of the agents, one per agent round robin: ${EMULATED_OS_NAMES.join(", ")} (comma list) or mixed`,
      (v: string) => {
        try {
          return parseOsList(v);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      },
    )
    .option(
      "--host-passthrough",
      "run executors on this machine itself (package installs, scli, systemctl...); by default each agent is an emulated host",
      false,
    )
    .action(
      async (o: {
        agents: number;
        port: number;
        host: string;
        zk?: string;
        agentsPerProcess?: number;
        heartbeat: number;
        verbose: boolean;
        hostPassthrough: boolean;
        os?: EmulatedOsName[];
      }) => {
        if (!/^127\./.test(o.host))
          throw new InvalidArgumentError("--host must be a loopback address (127.x.y.z)");
        // An emulated OS lives in the agent's sandbox root: there is none on the real machine.
        if (o.os && o.hostPassthrough)
          throw new InvalidArgumentError(
            "--os emulates agents: it cannot be used with --host-passthrough",
          );
        const starting = startDevCluster({
          agents: o.agents,
          agentsPerProcess: o.agentsPerProcess ?? (o.agents > 8 ? 500 : 1),
          masterHost: o.host,
          masterPort: o.port,
          ...(o.zk ? { zk: o.zk } : {}),
          master: { heartbeatIntervalMs: o.heartbeat * 1000 },
          verbose: o.verbose,
          hostPassthrough: o.hostPassthrough,
        });
        // Signals are handled from the start: one during start-up stops what has started.
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          starting
            .then((c) => c.stop())
            .then(
              () => process.exit(0),
              (err: unknown) => {
                process.stderr.write(`stopping failed: ${String(err)}\n`);
                process.exit(1);
              },
            );
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        const cluster = await starting;
        if (stopping) return;
        if (o.hostPassthrough)
          process.stderr.write(
            "host passthrough: executors run host commands on this machine and can change it\n",
          );
        await Promise.all(cluster.agents.map((a) => a.id()));
        for (const [i, a] of cluster.agents.entries()) {
          const os = osOfAgent(o.os ?? [], i);
          if (!os) continue;
          // Inside the agent's own root folder (SCALEIO_SIM_ROOT), never the real machine.
          const root = join(cluster.workDir, "nodes", a.host);
          prepareEmulatedOs(root, os);
          process.stderr.write(
            `agent ${a.host}: ${os} (kernel ${emulatedOsKernel(os)}), root ${root}\n`,
          );
        }
        if (!stopping) process.stdout.write(`master: ${cluster.masterUrl}\n`);
      },
    );
}
