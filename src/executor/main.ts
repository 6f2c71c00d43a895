// `scaleio-framework executor`: the process Mesos starts on each agent. It reads the
// MESOS_* environment and the framework's own variables (protocol.ts EXECUTOR_ENV,
// host/profile.ts HOST_ENV), subscribes to the agent and runs the node steps it is given.
import { ExecutorClient, readExecutorEnvironment } from "../mesos/executor/index.js";
import { hostProfileFromEnv, type HostProfile } from "../host/profile.js";
import { scaleioNodeHandlers } from "../platforms/scaleio/node/index.js";
import { NodeExecutor } from "./executor.js";
import { installProcessGuards } from "../common/process-guards.js";
import { executorLogger } from "./logger.js";
import { HandlerRegistry } from "./run-step.js";
import { secretsFetcherFromEnv } from "./secrets.js";
import { DeviceReporter, scanIntervalFromEnv } from "./device-reporter.js";
import { encodeDeviceReport } from "../platforms/scaleio/device-report.js";

/** Runs until SHUTDOWN (exit code 0) or a fatal loss of the agent (1); 2 for a bad environment. */
export async function runExecutor(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = executorLogger();
  // Anything no handler caught: one line, exit 1 (the agent reports the executor's tasks).
  installProcessGuards({ log });
  let mesosEnv;
  try {
    mesosEnv = readExecutorEnvironment(env);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, "bad executor environment");
    return 2;
  }
  const host: HostProfile | Error = await hostProfileFromEnv(env).catch((err: Error) => err);
  if (host instanceof Error) log.error({ err: host.message }, "host profile unavailable");
  else
    log.info({ profile: host.name, root: host.root.root, packages: host.packages.format }, "host");
  const secrets = await secretsFetcherFromEnv(env);
  const client = new ExecutorClient({ env: mesosEnv });
  const runningAfter = Number(env.SCALEIO_FRAMEWORK_RUNNING_AFTER_MS);
  const executor = new NodeExecutor({
    client,
    registry: new HandlerRegistry(scaleioNodeHandlers),
    host,
    fetchSecrets: secrets,
    log,
    ...(Number.isFinite(runningAfter) && runningAfter >= 0 ? { runningAfterMs: runningAfter } : {}),
  });
  log.info({ executor: mesosEnv.executorId, agent: mesosEnv.agentEndpoint }, "executor starting");
  let interval = 0;
  try {
    interval = scanIntervalFromEnv(env);
  } catch (err) {
    log.error({ err: (err as Error).message }, "periodic device scan off");
  }
  if (!(host instanceof Error) && interval > 0) {
    const h = host;
    const reporter = new DeviceReporter({
      intervalSeconds: interval,
      scan: async () =>
        encodeDeviceReport(
          (await h.discoverDevices()).map((d) => ({
            path: d.path,
            sizeBytes: d.sizeBytes,
            usable: d.usable,
            ...(d.reason ? { reason: d.reason } : {}),
          })),
        ),
      send: (m) => client.message(m),
      log,
    });
    client.on("subscribed", () => {
      reporter.forget();
      reporter.start();
    });
    void executor.exited.then(() => reporter.stop());
  }
  executor.start();
  const code = await executor.exited;
  log.info({ code }, "executor exiting");
  return code;
}
