// `scaleio-framework scheduler`: the scheduler process. Wires the configuration, the state
// store, the Mesos subscription, the ScaleIO platform and the HTTP server together.
import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../common/paths.js";
import { EventStreams } from "../api/event-streams.js";
import { buildApiServer } from "../api/server.js";
import type { HandoverListener } from "../ha/handover-listener.js";
import { Metrics } from "../api/metrics.js";
import { OperatorView } from "../framework/operator-view.js";
import { EventHub, teeToHub } from "../framework/events.js";
import { redactSecrets } from "../common/secret.js";
import { FrameworkScheduler } from "../framework/scheduler.js";
import { EXECUTOR_ENV } from "../framework/node-task/protocol.js";
import { DEVICE_SCAN_ENV } from "../executor/device-reporter.js";
import { Credential } from "../mesos/credentials.js";
import { createDetector, parseZkUrl } from "../mesos/detector/index.js";
import {
  FrameworkFailedOverError,
  FrameworkRemovedError,
  type MesosError,
} from "../mesos/errors.js";
import { installProcessGuards } from "../common/process-guards.js";
import { detectorSource } from "../mesos/scheduler/master-source.js";
import { GatewayClient } from "../platforms/scaleio/gateway/client.js";
import { MaintenanceClient } from "../mesos/maintenance/client.js";
import { gatewayClusterOps } from "../platforms/scaleio/gateway-ops.js";
import { ClusterObserver } from "../platforms/scaleio/observe/observer.js";
import { ScaleioHealthChecks } from "../platforms/scaleio/observe/checks.js";
import { RepairBackoff } from "../platforms/scaleio/recovery-plan.js";
import { ScaleIOPlatform } from "../platforms/scaleio/platform.js";
import { rexrayDownloads } from "../platforms/scaleio/node/rexray-source.js";
import { gatewayTeardownOps } from "../platforms/scaleio/lifecycle/teardown.js";
import {
  UNINSTALL_KEY,
  UNINSTALLED_KEY,
  Uninstaller,
  type UninstalledMark,
} from "../framework/uninstall.js";
import { CapacityHook } from "../platforms/scaleio/remediate/capacity-hook.js";
import type { CapacityRemediationOptions } from "../platforms/scaleio/remediate/capacity-remediation.js";
import { AlertWebhook } from "../framework/health/alert-webhook.js";
import { parseDeclarativeTopology } from "../platforms/scaleio/topology/declarative.js";
import type { StrategyInput } from "../platforms/scaleio/topology/storage.js";
import {
  describeLocation,
  openStateStore,
  stateLocation,
  type StateLocation,
} from "../store/open-store.js";
import { translateLegacyArgs } from "./config/aliases.js";
import { packageUrlOf } from "./config/package-source.js";
import {
  ConfigError,
  OPTIONS,
  SECRET_OPTIONS,
  loadConfig,
  type LoadedConfig,
} from "./config/load.js";
import { createLogger } from "./logger.js";
import {
  configuredApiUrl,
  flagHelp,
  listenFailure,
  startLine,
  startupFailure,
  stateFailure,
  StartupError,
  usageErrorLine,
} from "./startup.js";
import type { Logger } from "pino";
import type { ClusterSummary } from "../platforms/scaleio/cluster/index.js";
import { gatewayMaintenance } from "../platforms/scaleio/lifecycle/maintenance.js";
import type { LeaderElector } from "../ha/elector.js";
import type { ZkStateStore } from "../store/zk-store.js";
import type { StateStore } from "../store/store.js";
import { EXIT_DEPOSED, standByUntilElected, type Elected } from "./scheduler-standby.js";
import { publishOperatorViews } from "../ha/view-publisher.js";

const CLI_ENTRY = join(packageRoot(), "bin", "scaleio-framework");

/** The master setting for log lines: a zk:// URL's credentials masked. */
/**
 * The AWS keys (the predecessor's `-aws.accesskey`/`-aws.secretkey`) for the capacity hook's
 * command, as the AWS tools read them; nothing else gets them, and a URL hook gets none.
 */
function capacityHookEnv(secrets: LoadedConfig["secrets"]): { env?: Record<string, string> } {
  const env: Record<string, string> = {};
  if (secrets.awsAccessKeyId) env.AWS_ACCESS_KEY_ID = secrets.awsAccessKeyId.reveal();
  if (secrets.awsSecretAccessKey) env.AWS_SECRET_ACCESS_KEY = secrets.awsSecretAccessKey.reveal();
  return Object.keys(env).length > 0 ? { env } : {};
}

function masterLabel(master: string): string {
  return /^zk:\/\//i.test(master) ? String(parseZkUrl(master)) : master;
}

export function registerScheduler(
  program: Command,
  version: string,
  argNotices: string[] = [],
): void {
  const cmd = program
    .command("scheduler")
    .description(
      "run the scheduler: subscribe to Mesos and deploy, watch and heal ScaleIO on the agents",
    )
    .option("--config <file>", "YAML configuration file")
    .allowExcessArguments(false)
    .addHelpText(
      "after",
      `\nEvery key of the --config file, with its flag and variable: docs/configuration.md.
What stops the start is one line on stderr, \`scaleio-framework: <message>\`.

Exit codes: 0 stopped by SIGTERM or SIGINT, 1 internal error (one log line) or a start-up
failure other than configuration (API port in use, state directory unusable), 2 bad
configuration, ${EXIT_MESOS_REFUSED} Mesos will not have this scheduler: --master is not a Mesos master
(e.g. HTTP 404 on /api/v1/scheduler), the framework was removed or another instance took
over, or the subscription was refused (one line on stderr says which), ${EXIT_DEPOSED} no longer
the leader (state in ZooKeeper: its session ended; start it again to stand by).`,
    );
  for (const [flag, spec] of Object.entries(OPTIONS)) {
    cmd.addOption(
      new Option(
        spec.kind === "boolean" ? `--${flag} [bool]` : `--${flag} <value>`,
        flagHelp(flag, spec),
      ),
    );
  }
  for (const [flag, description] of Object.entries(SECRET_OPTIONS)) {
    cmd.addOption(new Option(`--${flag} <value>`, description));
  }
  // Usage errors (an unknown flag, a missing value) in the same one-line form as the others.
  cmd.configureOutput({
    outputError: (str, write) => write(usageErrorLine(str)),
  });
  cmd.action(async (opts: Record<string, string | boolean | undefined>) => {
    const { config: file, ...flags } = opts;
    let loaded: LoadedConfig | undefined;
    try {
      loaded = loadConfig({ flags, ...(typeof file === "string" ? { file } : {}) });
      await runScheduler({ ...loaded, notices: [...argNotices, ...loaded.notices] }, version);
    } catch (err) {
      // Whatever stops the start: one line, exit 2 for configuration, 1 otherwise.
      const f = startupFailure(err);
      process.stderr.write(`${redactSecrets(f.line, Object.values(loaded?.secrets ?? {}))}\n`);
      process.exit(f.exitCode);
    }
  });
}

/** Rewrites the predecessor's `-flag=value` arguments before commander sees them. */
export function preprocessArgs(argv: string[]): { argv: string[]; notices: string[] } {
  const [node, script, ...rest] = argv;
  const t = translateLegacyArgs(rest);
  return { argv: [node!, script!, ...t.argv], notices: t.notices };
}

export interface SchedulerHandle {
  apiUrl: string;
  scheduler: FrameworkScheduler;
  platform: ScaleIOPlatform;
  view: OperatorView;
  metrics: Metrics;
  /** Uninstall under way or asked for; `onFinished` once it is done (the process then ends). */
  uninstall: Uninstaller;
  summary(): Promise<ClusterSummary>;
  stop(): Promise<void>;
}

/** The API's certificate, key and the CA executors trust, read once at start. */
function readApiTls(
  api: LoadedConfig["config"]["api"],
): { cert: string; key: string; ca: string } | undefined {
  if (!api.tlsCertFile || !api.tlsKeyFile) return undefined;
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError([
        `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      ]);
    }
  };
  const cert = read(api.tlsCertFile, "--api-tls-cert");
  const key = read(api.tlsKeyFile, "--api-tls-key");
  const ca = api.tlsCaFile ? read(api.tlsCaFile, "--api-tls-ca") : cert;
  return { cert, key, ca };
}

/** The declarative topology file, read and checked at start (a configuration error if bad). */
function readTopology(file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([
      `cannot read --topology-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  try {
    return parseDeclarativeTopology(text, file);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

/** Exit code of a scheduler that Mesos will not have (see the command's help). */
export const EXIT_MESOS_REFUSED = 5;

/** The one line a scheduler that Mesos will not have leaves on stderr. */
export function mesosRefusalLine(
  err: MesosError,
  state: string | StateLocation,
  frameworkId?: string,
): string {
  if (err instanceof FrameworkRemovedError) {
    const loc: StateLocation = typeof state === "string" ? { kind: "file", dir: state } : state;
    const what =
      loc.kind === "file"
        ? join(loc.dir, "framework", "id.json")
        : `the key framework/id from ${describeLocation(loc)}`;
    return `${err.message}; framework ${frameworkId ?? "(unknown)"} cannot subscribe again: to register as a new framework, remove ${what}`;
  }
  if (err instanceof FrameworkFailedOverError) {
    return `${err.message}; another scheduler now runs as framework ${frameworkId ?? "(unknown)"}, this one stops`;
  }
  return err.message;
}

/** Runs the scheduler until SIGTERM/SIGINT, or until Mesos will not have it. */
export async function runScheduler(loaded: LoadedConfig, version: string): Promise<void> {
  // Whatever no handler caught ends the process with one line, for its supervisor to restart.
  const log = createLogger(loaded.config.logLevel, Object.values(loaded.secrets));
  installProcessGuards({ log });
  // A stop asked for while the scheduler starts is carried out once it has started. Some
  // handler stays installed from here on: with none, even for an instant between two, the
  // signal's default action ends the process at once (an elected leader's znode would then
  // hold the standbys off for a whole session timeout, and nothing would close cleanly).
  let stopAsked: number | undefined;
  const askStop = () => (stopAsked ??= 0);
  process.on("SIGTERM", askStop);
  process.on("SIGINT", askStop);
  // State in ZooKeeper: stand by until elected (the standby prints its own api: line).
  const stateAt = stateLocation(loaded.config.state);
  let ha: Elected | undefined;
  if (stateAt.kind === "zk") {
    const c = loaded.config;
    const apiHost = c.api.address === "0.0.0.0" ? hostname() : c.api.address;
    const first = startLine(c, {
      master: masterLabel(c.mesos.master),
      apiUrl: configuredApiUrl(c, apiHost),
      version,
    });
    log.info(first.fields, first.msg);
    ha = await standByUntilElected(loaded, stateAt, {
      version,
      log,
      apiHost,
      tls: readApiTls(c.api),
    });
  }
  const handle = ha
    ? await startScheduler(
        { ...loaded, config: { ...loaded.config, api: { ...loaded.config.api, port: ha.port } } },
        version,
        {
          logger: log,
          ha: {
            store: ha.store,
            elector: ha.elector,
            listener: ha.listener,
            closeStandby: ha.closeStandby,
          },
        },
      )
    : await startScheduler(loaded, version, { logger: log });
  if (!ha) console.log(`api: ${handle.apiUrl}`);
  let stopping = false;
  /** The uninstall's summary: the process's last line. */
  let finalLine: (() => void) | undefined;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await handle.stop();
    } finally {
      finalLine?.();
      process.exit(code);
    }
  };
  // The next handlers first, then the start's away (never none in between); a second signal
  // while stopping finds stop() already under way.
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGINT", () => void stop(0));
  process.off("SIGTERM", askStop);
  process.off("SIGINT", askStop);
  if (stopAsked !== undefined) void stop(stopAsked);
  // Deposed (session lost, znode gone): its writes are already fenced; it stops acting at
  // once and exits for its supervisor to start it again as a standby.
  const deposed = (why: string) => {
    if (stopping) return;
    process.stderr.write(
      `scaleio-framework: no longer the leader (${why}): stopping; restart it to stand by (exit ${EXIT_DEPOSED})\n`,
    );
    setTimeout(() => process.exit(EXIT_DEPOSED), 5_000).unref();
    void stop(EXIT_DEPOSED);
  };
  // Not a Mesos master, framework removed or failed over: retrying cannot help, and a
  // process left running would only answer /health with 503 forever.
  const client = handle.scheduler.client;
  const refused = (err: MesosError) => {
    // An uninstall tears the framework down itself (and finishes below).
    if (handle.uninstall.active) return;
    // With a leader election, Mesos handing the framework to another scheduler means it was
    // elected while this one was cut off (paused, partitioned): deposed, whichever is heard
    // first, the failover or the end of its ZooKeeper session.
    if (ha && err instanceof FrameworkFailedOverError) {
      deposed("Mesos handed the framework to another scheduler");
      return;
    }
    const line = mesosRefusalLine(err, stateLocation(loaded.config.state), client.frameworkId);
    // The same one-line form as every error that stops the start.
    process.stderr.write(`scaleio-framework: ${handle.scheduler.redact(line)}\n`);
    void stop(EXIT_MESOS_REFUSED);
  };
  client.on("fatal", refused);
  if (client.fatal) refused(client.fatal);
  ha?.elector.on("deposed", deposed);
  if (ha && !ha.elector.isLeader) deposed("deposed while starting");
  handle.uninstall.onFinished((s) => {
    finalLine = () => log.info({ frameworkId: s.frameworkId, leftBehind: s.leftBehind }, s.line);
    void stop(0);
  });
}

/**
 * A finished uninstall leaves a tombstone: started again on that state (Marathon restarts an
 * app whose process ended), the scheduler stops instead of deploying afresh. An uninstall
 * still under way (its record is there) carries on as usual.
 */
async function refuseIfUninstalled(store: StateStore): Promise<void> {
  const mark = await store.get<UninstalledMark>(UNINSTALLED_KEY);
  if (mark === undefined || (await store.get(UNINSTALL_KEY)) !== undefined) return;
  await store.close();
  throw new StartupError(
    `this framework was uninstalled (${mark.at}${mark.frameworkId ? `, framework ${mark.frameworkId}` : ""}) ` +
      `and does not deploy again by itself: remove its Marathon app, or to install afresh delete the ` +
      `state key ${UNINSTALLED_KEY} (scaleio-framework state delete ${UNINSTALLED_KEY} --yes)`,
  );
}

export async function startScheduler(
  loaded: LoadedConfig,
  version: string,
  opts: {
    logger?: Logger;
    retry?: { initialMs?: number; maxMs?: number };
    discoverAgentsEveryMs?: number;
    /**
     * Elected: its store (fenced), its election, the standby's listener the API takes over,
     * and the standby's API to retire once this one answers.
     */
    ha?: {
      store: ZkStateStore;
      elector: LeaderElector;
      listener: HandoverListener;
      closeStandby(): Promise<void>;
    };
  } = {},
): Promise<SchedulerHandle> {
  const { config, secrets, notices } = loaded;
  const log = opts.logger ?? createLogger(config.logLevel, Object.values(secrets));
  if (!secrets.adminPassword) {
    throw new ConfigError([
      "the ScaleIO admin password is required: set SCALEIO_ADMIN_PASSWORD or --admin-password-file",
    ]);
  }
  // The first line: what it talks to, where it keeps state, where its API is, what it deploys.
  const apiHost = config.api.address === "0.0.0.0" ? hostname() : config.api.address;
  const first = startLine(config, {
    master: masterLabel(config.mesos.master),
    apiUrl: configuredApiUrl(config, apiHost),
    version,
  });
  if (!opts.ha) log.info(first.fields, first.msg);
  for (const n of notices) log.warn({ notice: n }, "configuration");
  const tls = readApiTls(config.api);
  if (!tls)
    log.warn(
      {},
      "the API is plain HTTP (no --api-tls-cert/--api-tls-key): the API token, and the admin password executors fetch from it, travel in clear",
    );
  const metrics = new Metrics();
  // Warnings and errors of the scheduler's parts reach operators on the event stream too.
  const hub = new EventHub({ redact: (t) => redactSecrets(t, Object.values(secrets)) });
  const stateAt = stateLocation(config.state);
  // Elected (state in ZooKeeper): the store the election fences, already open.
  const elected = opts.ha?.store;
  const openStore: typeof openStateStore = elected ? async () => elected : openStateStore;
  const store = metrics.timeStore(
    await openStore(stateAt, {
      zkAuth: secrets.zkAuth,
      zkSessionTimeoutMs: config.state.zkSessionTimeoutMs,
      onWarning: (m) => log.warn({}, m),
    }).catch((err: unknown) => {
      throw stateAt.kind === "file"
        ? stateFailure(err, stateAt.dir)
        : new StartupError(
            `cannot use the state store ${describeLocation(stateAt)} (--state): ${(err as Error).message}`,
          );
    }),
  );
  await refuseIfUninstalled(store);
  const sc = config.scaleio;
  const strategy: StrategyInput =
    sc.strategy === "declarative"
      ? {
          strategy: "declarative",
          topology: readTopology(sc.topologyFile!),
        }
      : {
          strategy: sc.strategy,
          protectionDomain: sc.protectionDomain,
          storagePool: sc.storagePool,
        };

  let gateway: GatewayClient | undefined;
  const gatewayUrl = () => {
    if (sc.gateway.url) return sc.gateway.url.replace(/\/$/, "");
    const host = sc.gateway.lb ?? sc.existing?.gateway ?? sc.existing?.primary;
    if (host) return `https://${host}:${sc.gateway.port}`;
    const primary = platform.mdms.find((m) => m.role === "primary");
    const ip = primary ? sched.agents.get(primary.agentId)?.ip : undefined;
    if (!ip) throw new Error("the gateway address is not known yet (no primary MDM placed)");
    return `https://${ip}:${sc.gateway.port}`;
  };
  let gatewayAt: string | undefined;
  const client = () => {
    const url = gatewayUrl();
    // Without a configured address the gateway is on the primary MDM's node, which a
    // replacement can move: a client for the new address then.
    if (gateway && gatewayAt !== url) {
      const old = gateway;
      gateway = undefined;
      old.close().catch((err: Error) => log.warn({ err: err.message }, "old gateway client"));
    }
    gatewayAt = url;
    return (gateway ??= new GatewayClient({
      url,
      password: secrets.adminPassword!,
      ...(sc.gateway.caFile ? { ca: readFileSync(sc.gateway.caFile) } : {}),
      insecure: sc.gateway.insecure,
      apiVersion: sc.apiVersion,
    }));
  };
  if (sc.gateway.insecure)
    log.warn({}, "gateway certificate verification is OFF (--gateway-insecure)");

  const ops = gatewayClusterOps({
    client,
    system: { name: sc.clusterName, ...(sc.clusterId ? { id: sc.clusterId } : {}) },
    onAgentProblem: (agentId, message) =>
      log.warn({ agentId, problem: message }, "agent storage problem"),
  });
  // A pool almost full: its agents' unused devices first (auto-grow), then the operator's hook.
  const hc = config.health;
  const capacity: CapacityRemediationOptions | undefined =
    hc.autoGrow === "devices" || hc.capacityHook
      ? {
          autoGrow: hc.autoGrow,
          ...(hc.capacityHook
            ? {
                hook: new CapacityHook({
                  target: /^https?:\/\//i.test(hc.capacityHook)
                    ? { url: hc.capacityHook }
                    : { command: hc.capacityHook },
                  ...capacityHookEnv(secrets),
                }),
              }
            : {}),
          warningPercent: hc.capacityWarningPercent,
          ...(hc.growthGb !== undefined ? { growthGb: hc.growthGb } : {}),
          rescan: (agentId) => platform.rescan(agentId),
          // Each action is one event (with the hook's request and answer) and one log line.
          record: (e) => {
            log[e.level]({ pool: e.pool, action: e.action }, e.message);
            hub.publish("log", {
              time: Date.now(),
              level: e.level,
              msg: e.message,
              remediation: { action: e.action, pool: e.pool, ...(e.hook ? { hook: e.hook } : {}) },
            });
          },
        }
      : undefined;
  const platform: ScaleIOPlatform = new ScaleIOPlatform({
    mode: sc.existing
      ? { existing: { managers: [sc.existing.primary, sc.existing.secondary] } }
      : { provision: { size: sc.mdmCount, need: config.executor.mdm } },
    strategy,
    systemName: sc.clusterName,
    packageUrl: (fmt, component) => packageUrlOf(sc.packages, fmt, component),
    ...(sc.packages.sdcDriverRepo ? { sdcDriverRepo: sc.packages.sdcDriverRepo } : {}),
    rexray: {
      endpoint: () => `${gatewayUrl()}/api`,
      insecure: sc.gateway.insecure,
      thinOrThick: sc.thinOrThick,
      // Installed, started and proven on every agent when a download is configured.
      ...(sc.rexrayUrl || sc.rexrayRepo ? { install: rexrayDownloads(sc)! } : {}),
    },
    ...(sc.isolatorMode === "docker-volume"
      ? { isolator: { mode: "docker-volume" as const, restartAgent: sc.isolatorRestartAgent } }
      : sc.isolatorBinary
        ? {
            isolator: {
              isolatorUrl: sc.isolatorBinary,
              modulesFile: "/usr/lib/dvdi-mod.json",
              restartAgent: sc.isolatorRestartAgent,
            },
          }
        : {}),
    ...(sc.isolatorRestartAgent
      ? {
          agentRestart: {
            maintenance: new MaintenanceClient({
              master: () => sched.client.masterUrl ?? config.mesos.master,
              ...(config.mesos.principal && secrets.mesosSecret
                ? {
                    authorization: () =>
                      `Basic ${Buffer.from(`${config.mesos.principal}:${secrets.mesosSecret!.reveal()}`).toString("base64")}`,
                  }
                : {}),
            }),
            frameworkId: () => sched.client.frameworkId,
          },
        }
      : {}),
    upgrade: {
      client,
      system: { name: sc.clusterName, ...(sc.clusterId ? { id: sc.clusterId } : {}) },
      canary: sc.upgradeCanary,
    },
    cluster: gatewayClusterOps({
      client,
      system: { name: sc.clusterName, ...(sc.clusterId ? { id: sc.clusterId } : {}) },
      capacityAlerts: {
        warningPercent: hc.capacityWarningPercent,
        criticalPercent: hc.capacityCriticalPercent,
      },
    }),
    health: {
      observer: new ClusterObserver({
        client,
        system: { name: sc.clusterName, ...(sc.clusterId ? { id: sc.clusterId } : {}) },
        intervalMs: config.health.observeIntervalSeconds * 1000,
        settleMs: config.health.observeSettleMs,
        checks: new ScaleioHealthChecks({
          capacityWarningPercent: config.health.capacityWarningPercent,
          capacityCriticalPercent: config.health.capacityCriticalPercent,
          latencyMicros: config.health.latencyThresholdMs * 1000,
          ...(config.health.maxIops !== undefined ? { maxIops: config.health.maxIops } : {}),
          performanceWindow: config.health.performanceWindow,
          rebuildStuckAfterMs: config.health.rebuildStuckMinutes * 60_000,
        }),
      }),
      repair: config.health.repair,
      maxParallel: config.health.repairParallel,
      ...(capacity ? { capacity } : {}),
      backoff: new RepairBackoff({ initialMs: config.health.repairBackoffInitialMs }),
    },
    // Lost or failing nodes replaced on request, and lost MDM agents after --mdm-replace-after.
    replace: {
      removeSds: async (id) => {
        await client().removeSds(id);
      },
      removeSdc: async (id) => {
        await client().removeSdc(id);
      },
      ...(sc.mdmReplaceAfter !== undefined ? { mdmReplaceAfterMs: sc.mdmReplaceAfter } : {}),
    },
    maintenance: gatewayMaintenance(client),
    // Data nodes taken out for good (POST /v1/nodes/{agentId}/decommission).
    decommission: {
      client,
      system: { name: sc.clusterName, ...(sc.clusterId ? { id: sc.clusterId } : {}) },
    },
    teardown: gatewayTeardownOps(client),
  });

  const master = config.mesos.master;
  const source =
    /^zk:\/\//i.test(master) || master.includes(",")
      ? detectorSource(createDetector(master), masterLabel(master))
      : undefined;
  let apiUrl = "";
  const sched: FrameworkScheduler = await FrameworkScheduler.create({
    master: source ?? master,
    frameworkInfo: {
      user: config.mesos.user,
      name: config.mesos.frameworkName,
      roles: [config.mesos.role],
      ...(config.mesos.principal ? { principal: config.mesos.principal } : {}),
      checkpoint: true,
      failover_timeout: config.mesos.failoverTimeoutSeconds,
      hostname: config.mesos.hostname ?? hostname(),
      capabilities: [
        { type: "MULTI_ROLE" },
        { type: "PARTITION_AWARE" },
        { type: "RESERVATION_REFINEMENT" },
      ],
    },
    role: config.mesos.role,
    store,
    platform,
    // Elected: each subscription first proves this process still leads.
    ...(opts.ha ? { beforeSubscribe: () => opts.ha!.elector.confirm() } : {}),
    secrets: { adminPassword: secrets.adminPassword },
    ...(config.mesos.principal && secrets.mesosSecret
      ? { credential: new Credential(config.mesos.principal, secrets.mesosSecret.reveal()) }
      : {}),
    executorFor: (agentId) => {
      const isMdm = platform.mdms.some((m) => m.agentId === agentId);
      const res = isMdm ? config.executor.mdm : config.executor.other;
      const env = [
        { name: EXECUTOR_ENV.schedulerUrl, value: apiUrl },
        // The CA executors check our certificate against (public, so the environment is fine).
        ...(tls ? [{ name: EXECUTOR_ENV.schedulerCa, value: tls.ca }] : []),
        { name: DEVICE_SCAN_ENV, value: String(config.executor.deviceScanSeconds) },
        ...Object.entries(config.executor.env).map(([name, value]) => ({ name, value })),
      ];
      const command =
        config.executor.launch === "artifact"
          ? {
              // Agents need no Node.js: Mesos fetches the self-contained executor from us.
              uris: [
                {
                  value: `${apiUrl}/v1/artifacts/${version}/scaleio-executor`,
                  executable: true,
                  extract: false,
                  cache: true,
                },
              ],
              shell: false,
              value: "./scaleio-executor",
              arguments: ["scaleio-executor", "executor"],
              environment: { variables: env },
            }
          : {
              shell: false,
              value: process.execPath,
              arguments: [process.execPath, CLI_ENTRY, "executor"],
              environment: { variables: env },
            };
      return {
        info: {
          executor_id: { value: `scaleio-${agentId}` },
          name: "ScaleIO framework executor",
          command,
        },
        resources: { cpus: res.cpus, memMb: res.memMb },
      };
    },
    logger: teeToHub(log, hub),
    // Maintenance decisions reach operators with their reasons, and the log.
    notify: (level, msg) => {
      log[level]({}, msg);
      hub.log(level, msg);
    },
    retry: opts.retry ?? {
      initialMs: config.steps.retryInitialMs,
      maxMs: config.steps.retryMaxMs,
    },
    ...(opts.discoverAgentsEveryMs !== undefined
      ? { discoverAgentsEveryMs: opts.discoverAgentsEveryMs }
      : {}),
  });

  metrics.countClient(sched.client);
  const view = new OperatorView(sched, { events: hub });
  metrics.bindView(view);
  const uninstaller = new Uninstaller(sched, {
    logger: teeToHub(log, hub),
    notify: (level, msg) => view.events.log(level, msg),
  });
  // Condition changes to the operator's Alertmanager-compatible receiver, off the monitor's path.
  const alertWebhook = hc.alertWebhook
    ? new AlertWebhook({
        url: hc.alertWebhook,
        receiver: config.mesos.frameworkName,
        externalURL: () => apiUrl,
        labels: { framework: config.mesos.frameworkName, cluster: sc.clusterName },
        redact: (t) => redactSecrets(t, Object.values(secrets)),
        logger: teeToHub(log, hub),
      })
    : undefined;
  alertWebhook?.start(view.health);
  // Operator-relevant happenings of the Mesos subscription go to the event stream too.
  sched.client.on("subscribed", (i) =>
    view.events.log("info", `subscribed to Mesos as framework ${i.frameworkId}`),
  );
  sched.client.on("disconnected", (i) =>
    view.events.log(
      "warn",
      `Mesos subscription lost${i.error ? `: ${sched.redact(i.error.message)}` : ""}`,
    ),
  );
  if (!secrets.apiToken)
    log.warn(
      {},
      "no API token configured (SCALEIO_FRAMEWORK_API_TOKEN or --api-token-file): the API refuses every change",
    );
  if (config.api.protectReads && !secrets.apiToken)
    log.warn({}, "--api-protect-reads without a token: every read is refused");

  const turn = opts.ha?.listener.adopt();
  const app = buildApiServer({
    version,
    operator: view,
    metrics,
    apiToken: secrets.apiToken,
    protectReads: config.api.protectReads,
    limits: config.api.limits,
    eventStreams: new EventStreams({
      onDrop: (remote, reason) => log.warn({ remote, reason }, "event-stream client disconnected"),
    }),
    onFault: (err, url) => log.error({ err: sched.redact(err.message), url }, "API fault"),
    executorArtifact: join(packageRoot(), "dist", "executor", "scaleio-executor"),
    vault: sched.vault,
    uninstall: uninstaller,
    health: { subscribed: () => sched.subscribed, checkStore: () => store.checkWritable() },
    ...(opts.ha ? { leader: opts.ha.elector } : {}),
    onSecretsIssued: (purpose, names, remote) =>
      log.info({ purpose, names, remote }, "secrets handed to an executor"),
    onSecretsRefused: (refusal) => log.warn({ ...refusal }, "secrets refused"),
    ...(turn
      ? { serverFactory: turn.serverFactory }
      : tls
        ? { tls: { cert: tls.cert, key: tls.key } }
        : {}),
  });
  // One line per step transition: operators (and crash tests) follow a deploy from the log.
  const stepStatus = new Map<string, string>();
  sched.engine.on("step", (planId, phaseId, s) => {
    // Progress messages re-emit the step: one line per status change is enough.
    const key = `${planId}/${s.id}`;
    if (stepStatus.get(key) === `${s.status}.${s.attempts}`) return;
    stepStatus.set(key, `${s.status}.${s.attempts}`);
    log.info(
      {
        plan: planId,
        phase: phaseId,
        step: s.id,
        status: s.status,
        attempts: s.attempts,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      },
      "step",
    );
  });
  const planStatus = new Map<string, string>();
  sched.engine.on("plan", (v) => {
    if (planStatus.get(v.id) === v.status) return;
    planStatus.set(v.id, v.status);
    log.info({ plan: v.id, status: v.status, ...v.progress }, "plan");
  });
  if (opts.ha && turn) {
    // The standby's socket: the full API answers on it from now on, the port never closed.
    await app.ready();
    opts.ha.listener.onRefused = () => metrics.countRefusedConnection();
    turn.activate();
    await opts.ha.closeStandby();
  } else {
    await app.listen({ host: config.api.address, port: config.api.port }).catch(async (err) => {
      await app.close().catch((e: Error) => log.debug({ err: e }, "API server not closed"));
      await store.close();
      throw listenFailure(err, config.api.address, config.api.port);
    });
  }
  const port = (app.server.address() as { port: number }).port;
  apiUrl = `${tls ? "https" : "http"}://${apiHost}:${port}`;
  log.info({ api: apiUrl }, "serving");
  // Past TEARDOWN the framework never runs as itself again: the uninstall only finishes.
  await uninstaller.load();
  if (!uninstaller.tornDown) await sched.start();
  view.start();
  // Elected: a copy of the read views in the store, for the standbys to answer reads from.
  const views = opts.ha
    ? publishOperatorViews(store, view, {
        leader: () => ({ id: opts.ha!.elector.info.id, api: apiUrl }),
        warn: (msg) => log.warn({}, msg),
        // Past its teardown an uninstall deletes the whole state: no copy written back.
        active: () => !uninstaller.tornDown,
      })
    : undefined;
  uninstaller.resume();
  await uninstaller
    .adopt()
    .catch((err: Error) => log.error({ err: err.message }, "uninstall not carried on"));
  return {
    apiUrl,
    scheduler: sched,
    platform,
    view,
    metrics,
    uninstall: uninstaller,
    summary: () => ops.summary(),
    stop: async () => {
      log.info({}, "stopping");
      await views?.stop();
      // Each part stops even when one before it fails; a failure is a line, not silence.
      const logged = (what: string) => (err: Error) =>
        log.warn({ err: err.message }, `${what} not stopped cleanly`);
      await view.stop().catch(logged("operator view"));
      await alertWebhook?.stop();
      await app.close().catch(logged("API server"));
      // A listener handed over by the standby is closed by its owner, not by Fastify.
      await opts.ha?.listener.close().catch(logged("API listener"));
      await sched.stop().catch(logged("scheduler"));
      await (source?.close() ?? Promise.resolve()).catch(logged("master detection"));
      await gateway?.close().catch(logged("gateway client"));
      await store.close();
    },
  };
}
