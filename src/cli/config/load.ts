// Loads the scheduler configuration: defaults < YAML file < environment < flags. Secrets
// (ScaleIO admin password, API token, Mesos secret) come only from files or environment
// variables (plus the predecessor's -scaleio.password, with a warning) and are kept apart.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { Secret } from "../../common/secret.js";
import { Provenance, settersOf } from "./explain.js";
import { didYouMean } from "./suggest.js";
import { configSchema, type SchedulerConfig } from "./schema.js";

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Kind = "string" | "number" | "int" | "boolean";

interface OptionSpec {
  path: string[];
  kind: Kind;
  description: string;
}

/** Every non-secret option, by long flag name. Env: SCALEIO_FRAMEWORK_<FLAG_IN_UPPER_SNAKE>. */
export const OPTIONS: Record<string, OptionSpec> = {
  master: {
    path: ["mesos", "master"],
    kind: "string",
    description: "Mesos master: http://host:5050, a comma list, or zk://host:2181/mesos",
  },
  "framework-name": {
    path: ["mesos", "frameworkName"],
    kind: "string",
    description: "framework name shown by Mesos",
  },
  role: {
    path: ["mesos", "role"],
    kind: "string",
    description: "Mesos role to reserve resources for",
  },
  user: { path: ["mesos", "user"], kind: "string", description: "Unix user the executors run as" },
  principal: { path: ["mesos", "principal"], kind: "string", description: "Mesos principal" },
  hostname: {
    path: ["mesos", "hostname"],
    kind: "string",
    description: "host name reported to Mesos",
  },
  "failover-timeout": {
    path: ["mesos", "failoverTimeoutSeconds"],
    kind: "number",
    description: "seconds Mesos keeps the framework's tasks while the scheduler is away",
  },
  "mesos-ca-file": {
    path: ["mesos", "caFile"],
    kind: "string",
    description: "CA bundle for an https master",
  },
  "api-address": {
    path: ["api", "address"],
    kind: "string",
    description: "address the operator API listens on",
  },
  "api-port": { path: ["api", "port"], kind: "int", description: "port of the operator API" },
  "api-protect-reads": {
    path: ["api", "protectReads"],
    kind: "boolean",
    description: "require the API token for reads too",
  },
  "api-max-connections": {
    path: ["api", "limits", "maxConnections"],
    kind: "int",
    description:
      "connections the API serves at once; more are closed at once (0: no cap; default 1024)",
  },
  "api-headers-timeout-ms": {
    path: ["api", "limits", "headersTimeoutMs"],
    kind: "int",
    description: "ms a request's headers may take to arrive (default 10000)",
  },
  "api-request-timeout-ms": {
    path: ["api", "limits", "requestTimeoutMs"],
    kind: "int",
    description: "ms a request's headers and body may take to arrive (0: no limit; default 30000)",
  },
  "api-idle-timeout-ms": {
    path: ["api", "limits", "idleTimeoutMs"],
    kind: "int",
    description: "ms without traffic before an API connection is closed (0: never; default 120000)",
  },
  "api-keep-alive-timeout-ms": {
    path: ["api", "limits", "keepAliveTimeoutMs"],
    kind: "int",
    description: "ms an idle keep-alive API connection stays open (default 72000)",
  },
  "api-max-requests-per-socket": {
    path: ["api", "limits", "maxRequestsPerSocket"],
    kind: "int",
    description:
      "requests served on one API connection before it is closed (0: no limit; default 1000)",
  },
  "api-tls-cert": {
    path: ["api", "tlsCertFile"],
    kind: "string",
    description: "PEM certificate (chain) of the API: serve it over TLS (with --api-tls-key)",
  },
  "api-tls-key": {
    path: ["api", "tlsKeyFile"],
    kind: "string",
    description: "PEM private key of --api-tls-cert",
  },
  "api-tls-ca": {
    path: ["api", "tlsCaFile"],
    kind: "string",
    description: "CA executors verify the API certificate against (default: --api-tls-cert itself)",
  },
  "state-dir": {
    path: ["state", "dir"],
    kind: "string",
    description: "directory of the embedded state store",
  },
  state: {
    path: ["state", "url"],
    kind: "string",
    description:
      "where the state lives: file:///path (the embedded store; default: --state-dir) or zk://host:port[,host:port...]/path (ZooKeeper; credentials in --zk-auth-file)",
  },
  "zk-session-timeout-ms": {
    path: ["state", "zkSessionTimeoutMs"],
    kind: "int",
    description: "ZooKeeper session timeout (ms) of the zk:// state store",
  },
  "step-retry-initial-ms": {
    path: ["steps", "retryInitialMs"],
    kind: "int",
    description: "first pause (ms) before a failed plan step runs again",
  },
  "step-retry-max-ms": {
    path: ["steps", "retryMaxMs"],
    kind: "int",
    description: "longest pause (ms) between retries of a failed plan step",
  },
  "log-level": {
    path: ["logLevel"],
    kind: "string",
    description: "trace, debug, info, warn or error",
  },
  "cluster-name": {
    path: ["scaleio", "clusterName"],
    kind: "string",
    description: "ScaleIO system name",
  },
  "cluster-id": {
    path: ["scaleio", "clusterId"],
    kind: "string",
    description: "ScaleIO system id (existing cluster)",
  },
  "protection-domain": {
    path: ["scaleio", "protectionDomain"],
    kind: "string",
    description: "default protection domain",
  },
  "storage-pool": {
    path: ["scaleio", "storagePool"],
    kind: "string",
    description: "default storage pool",
  },
  "api-version": {
    path: ["scaleio", "apiVersion"],
    kind: "string",
    description: "ScaleIO REST API version",
  },
  "mdm-count": {
    path: ["scaleio", "mdmCount"],
    kind: "int",
    description: "MDM cluster size when provisioning: 3 or 5",
  },
  "mdm-primary": {
    path: ["scaleio", "existing", "primary"],
    kind: "string",
    description: "existing cluster: primary MDM address",
  },
  "mdm-secondary": {
    path: ["scaleio", "existing", "secondary"],
    kind: "string",
    description: "existing cluster: secondary MDM address",
  },
  "mdm-tiebreaker": {
    path: ["scaleio", "existing", "tiebreaker"],
    kind: "string",
    description: "existing cluster: tie-breaker address",
  },
  gateway: {
    path: ["scaleio", "existing", "gateway"],
    kind: "string",
    description: "existing cluster: gateway address (default: the primary MDM)",
  },
  "gateway-url": {
    path: ["scaleio", "gateway", "url"],
    kind: "string",
    description: "gateway URL (default: the existing gateway, or the primary MDM)",
  },
  "executor-launch": {
    path: ["executor", "launch"],
    kind: "string",
    description: "node (run this installation's CLI) or artifact (self-contained executor)",
  },
  "gateway-lb": {
    path: ["scaleio", "gateway", "lb"],
    kind: "string",
    description: "load-balanced gateway address",
  },
  "gateway-port": {
    path: ["scaleio", "gateway", "port"],
    kind: "int",
    description: "gateway HTTPS port",
  },
  "gateway-ca-file": {
    path: ["scaleio", "gateway", "caFile"],
    kind: "string",
    description: "CA that signs the gateway certificate",
  },
  "gateway-insecure": {
    path: ["scaleio", "gateway", "insecure"],
    kind: "boolean",
    description: "do not verify the gateway certificate (not recommended)",
  },
  strategy: {
    path: ["scaleio", "strategy"],
    kind: "string",
    description: "single-pool, imperative or declarative",
  },
  "topology-file": {
    path: ["scaleio", "topologyFile"],
    kind: "string",
    description: "declarative topology YAML",
  },
  "rexray-url": {
    path: ["scaleio", "rexrayUrl"],
    kind: "string",
    description:
      "REX-Ray download installed on every agent (.tar.gz holding rexray, .rpm/.deb, or the program)",
  },
  "rexray-repo": {
    path: ["scaleio", "rexrayRepo"],
    kind: "string",
    description:
      "folder laid out as REX-Ray's download site: <repo>/<branch>/<version>/rexray-Linux-x86_64-<version>.tar.gz",
  },
  "rexray-version": {
    path: ["scaleio", "rexrayVersion"],
    kind: "string",
    description: "REX-Ray version taken from --rexray-repo (default 0.11.4)",
  },
  "rexray-branch": {
    path: ["scaleio", "rexrayBranch"],
    kind: "string",
    description: "REX-Ray branch taken from --rexray-repo: stable (default), unstable, staged",
  },
  "dvdcli-url": {
    path: ["scaleio", "dvdcliUrl"],
    kind: "string",
    description: "dvdcli download installed with REX-Ray (.tar.gz holding dvdcli, .rpm/.deb)",
  },
  "thin-or-thick": {
    path: ["scaleio", "thinOrThick"],
    kind: "string",
    description: "ThinProvisioned (default) or ThickProvisioned volumes for REX-Ray",
  },
  "observe-settle-ms": {
    path: ["health", "observeSettleMs"],
    kind: "int",
    description: "ms a look asked for after a change waits, so a burst costs one (default 1000)",
  },
  "observe-interval": {
    path: ["health", "observeIntervalSeconds"],
    kind: "number",
    description: "seconds between observations of the cluster (default 10)",
  },
  repair: {
    path: ["health", "repair"],
    kind: "string",
    description:
      "owned (default: repair what the framework provisioned), existing (an existing cluster too) or off (report only)",
  },
  "repair-parallel": {
    path: ["health", "repairParallel"],
    kind: "int",
    description: "repairs that run at once (default 2)",
  },
  "repair-backoff-initial-ms": {
    path: ["health", "repairBackoffInitialMs"],
    kind: "int",
    description:
      "wait before repairing an object that broke again after a repair; doubles each time, up to 30 min (default 30000)",
  },
  "capacity-warning-percent": {
    path: ["health", "capacityWarningPercent"],
    kind: "number",
    description:
      "pool used % (of non-spare capacity) for a warning, also the MDM's high threshold (default 80)",
  },
  "capacity-critical-percent": {
    path: ["health", "capacityCriticalPercent"],
    kind: "number",
    description: "pool used % for critical, also the MDM's critical threshold (default 90)",
  },
  "latency-threshold-ms": {
    path: ["health", "latencyThresholdMs"],
    kind: "number",
    description: "device latency beyond which a pool or SDS is slow (default 50)",
  },
  "max-iops": {
    path: ["health", "maxIops"],
    kind: "number",
    description: "IOPS beyond which a pool or SDS is overloaded (default: no limit)",
  },
  "performance-window": {
    path: ["health", "performanceWindow"],
    kind: "int",
    description: "observations in a row a slowness must last to count (default 3)",
  },
  "rebuild-stuck-minutes": {
    path: ["health", "rebuildStuckMinutes"],
    kind: "number",
    description: "a rebuild that has not moved for this long is stuck (default 5)",
  },
  "auto-grow": {
    path: ["health", "autoGrow"],
    kind: "string",
    description: "devices: add unused raw devices to an almost-full pool (default off)",
  },
  "capacity-hook": {
    path: ["health", "capacityHook"],
    kind: "string",
    description:
      "command (absolute path, JSON on stdin) or URL (JSON POST) called when a pool is almost full",
  },
  "capacity-growth-gb": {
    path: ["health", "growthGb"],
    kind: "int",
    description:
      "growth (GiB) asked of the capacity hook for an almost-full pool (default: computed to bring it 10 points under the warning)",
  },
  "alert-webhook": {
    path: ["health", "alertWebhook"],
    kind: "string",
    description: "URL that condition changes are posted to, as Alertmanager-compatible JSON",
  },
  "device-scan-interval": {
    path: ["executor", "deviceScanSeconds"],
    kind: "int",
    description: "seconds between executors' device rescans (0: only on demand; default 300)",
  },
  "isolator-mode": {
    path: ["scaleio", "isolatorMode"],
    kind: "string",
    description: "module (mesos-module-dvdi) or docker-volume (Mesos >= 1.0 built-in isolator)",
  },
  "mdm-replace-after": {
    path: ["scaleio", "mdmReplaceAfter"],
    kind: "string",
    description:
      "replace an MDM member whose agent has been lost this long, e.g. 10m (default: never on its own)",
  },
  "isolator-restart-agent": {
    path: ["scaleio", "isolatorRestartAgent"],
    kind: "boolean",
    description:
      "drain (Mesos maintenance) and restart an agent whose isolator configuration changed (default off; never reboots)",
  },
  "isolator-binary": {
    path: ["scaleio", "isolatorBinary"],
    kind: "string",
    description: "URL of the DVDI isolator module",
  },
  "upgrade-canary": {
    path: ["scaleio", "upgradeCanary"],
    kind: "int",
    description: "an upgrade the configuration asks for pauses after this many SDSs",
  },
  "executor-cpu-mdm": {
    path: ["executor", "mdm", "cpus"],
    kind: "number",
    description: "CPUs reserved on MDM nodes",
  },
  "executor-mem-mdm": {
    path: ["executor", "mdm", "memMb"],
    kind: "int",
    description: "memory (MB) reserved on MDM nodes",
  },
  "executor-cpu-non": {
    path: ["executor", "other", "cpus"],
    kind: "number",
    description: "CPUs reserved on other nodes",
  },
  "executor-mem-non": {
    path: ["executor", "other", "memMb"],
    kind: "int",
    description: "memory (MB) reserved on other nodes",
  },
  "package-repo": {
    path: ["scaleio", "packages", "repo"],
    kind: "string",
    description:
      "URL of the folder holding the package files, named as ScaleIO delivers them (EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm, emc-scaleio-mdm_2.0-6035.0_amd64.deb); with --package-version",
  },
  "package-version": {
    path: ["scaleio", "packages", "version"],
    kind: "string",
    description: "version of the packages in --package-repo, e.g. 2.0-6035.0",
  },
  "sdc-driver-repo": {
    path: ["scaleio", "packages", "sdcDriverRepo"],
    kind: "string",
    description:
      "URL of a scini driver repository for kernels the SDC package has no driver for (<repo>/<kernel release>/scini.tar, as ScaleIO's driver_sync)",
  },
};
for (const fmt of ["deb", "rpm"]) {
  for (const c of ["mdm", "sds", "sdc", "lia", "gateway"]) {
    OPTIONS[`package-${fmt}-${c}`] = {
      path: ["scaleio", "packages", fmt, c],
      kind: "string",
      description: `${c} package (${fmt}) URL (instead of the one in --package-repo)`,
    };
  }
}

/** Secret-bearing options: never part of the configuration object. */
export const SECRET_OPTIONS = {
  "admin-password-file": "file holding the ScaleIO admin password (or SCALEIO_ADMIN_PASSWORD)",
  "admin-password": "deprecated: the admin password itself (visible in process listings)",
  "api-token-file": "file holding the operator API token (or SCALEIO_FRAMEWORK_API_TOKEN)",
  "mesos-secret-file":
    "file holding the Mesos principal's secret (or SCALEIO_FRAMEWORK_MESOS_SECRET)",
  "zk-auth-file":
    "file holding user:password for ZooKeeper digest authentication of the zk:// state store: its znodes are then readable and writable by that user only (or SCALEIO_FRAMEWORK_ZK_AUTH)",
  "aws-access-key-id-file":
    "file holding an AWS access key id for the --capacity-hook command (or AWS_ACCESS_KEY_ID)",
  "aws-access-key-id": "deprecated: the AWS access key id itself (visible in process listings)",
  "aws-secret-access-key-file":
    "file holding an AWS secret access key for the --capacity-hook command (or AWS_SECRET_ACCESS_KEY)",
  "aws-secret-access-key":
    "deprecated: the AWS secret access key itself (visible in process listings)",
} as const;

export const envName = (flag: string) =>
  `SCALEIO_FRAMEWORK_${flag.replaceAll("-", "_").toUpperCase()}`;

export interface Secrets {
  adminPassword?: Secret;
  apiToken?: Secret;
  mesosSecret?: Secret;
  /** `user:password` for the ZooKeeper state store's digest ACLs. */
  zkAuth?: Secret;
  /** Handed to the capacity hook's command only (the predecessor grew AWS volumes). */
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
}

/** Where each secret may come from: a file flag, else the environment (never the YAML file). */
const SECRET_SOURCES: {
  key: keyof Secrets;
  fileFlag: string;
  inlineFlag?: string;
  env: string;
  what: string;
}[] = [
  {
    key: "adminPassword",
    fileFlag: "admin-password-file",
    inlineFlag: "admin-password",
    env: "SCALEIO_ADMIN_PASSWORD",
    what: "admin password",
  },
  {
    key: "apiToken",
    fileFlag: "api-token-file",
    env: "SCALEIO_FRAMEWORK_API_TOKEN",
    what: "API token",
  },
  {
    key: "mesosSecret",
    fileFlag: "mesos-secret-file",
    env: "SCALEIO_FRAMEWORK_MESOS_SECRET",
    what: "Mesos secret",
  },
  {
    key: "zkAuth",
    fileFlag: "zk-auth-file",
    env: "SCALEIO_FRAMEWORK_ZK_AUTH",
    what: "ZooKeeper credentials",
  },
  {
    key: "awsAccessKeyId",
    fileFlag: "aws-access-key-id-file",
    inlineFlag: "aws-access-key-id",
    env: "AWS_ACCESS_KEY_ID",
    what: "AWS access key id",
  },
  {
    key: "awsSecretAccessKey",
    fileFlag: "aws-secret-access-key-file",
    inlineFlag: "aws-secret-access-key",
    env: "AWS_SECRET_ACCESS_KEY",
    what: "AWS secret access key",
  },
];

export interface LoadedConfig {
  config: SchedulerConfig;
  secrets: Secrets;
  notices: string[];
}

export interface LoadOptions {
  /** Values from flags, keyed by long flag name (strings as typed, booleans for switches). */
  flags?: Record<string, string | boolean | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Path of the YAML configuration file. */
  file?: string;
}

const SECRET_KEY = /pass(word)?|secret|token/i;

function coerce(value: string | boolean, kind: Kind, where: string, problems: string[]): unknown {
  if (kind === "boolean") {
    if (typeof value === "boolean") return value;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    problems.push(`${where}: expected true or false, got '${value}'`);
    return undefined;
  }
  if (typeof value === "boolean") {
    problems.push(`${where}: needs a value`);
    return undefined;
  }
  if (kind === "number" || kind === "int") {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
      problems.push(
        `${where}: expected ${kind === "int" ? "an integer" : "a number"}, got '${value}'`,
      );
      return undefined;
    }
    return n;
  }
  return value;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function findSecretKeys(value: unknown, path: string[] = []): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(SECRET_KEY.test(k) ? [[...path, k].join(".")] : []),
    ...findSecretKeys(v, [...path, k]),
  ]);
}

function readSecretFile(path: string, what: string, problems: string[]): Secret | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    if (!text) {
      problems.push(`${what} file ${path} is empty`);
      return undefined;
    }
    return new Secret(text, path);
  } catch (err) {
    problems.push(
      `cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
    return undefined;
  }
}

export function loadConfig(opts: LoadOptions): LoadedConfig {
  const env = opts.env ?? process.env;
  // Commander hands options over camelCased; accept both spellings.
  const flags = Object.fromEntries(
    Object.entries(opts.flags ?? {}).map(([k, v]) => [
      k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      v,
    ]),
  );
  const problems: string[] = [];
  const notices: string[] = [];
  let raw: Record<string, unknown> = {};
  // Where each value came from, for errors that name it.
  const provenance = new Provenance();

  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (err) {
      throw new ConfigError([
        `cannot read configuration file ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      ]);
    }
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { prettyErrors: true, lineCounter });
    if (doc.errors.length > 0) {
      throw new ConfigError(doc.errors.map((e) => `${opts.file}: ${e.message.split("\n")[0]}`));
    }
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) {
      if (typeof value !== "object" || Array.isArray(value)) {
        throw new ConfigError([`${opts.file}: the top level must be a mapping`]);
      }
      raw = value as Record<string, unknown>;
      provenance.addFile(doc, opts.file, lineCounter);
    }
    const secretKeys = findSecretKeys(raw);
    if (secretKeys.length > 0) {
      throw new ConfigError(
        secretKeys.map(
          (k) =>
            `${opts.file}: '${k}' looks like a secret; secrets are read from files or environment variables, never from the configuration file`,
        ),
      );
    }
  }

  for (const [flag, spec] of Object.entries(OPTIONS)) {
    const fromEnv = env[envName(flag)];
    if (fromEnv !== undefined && fromEnv !== "") {
      const v = coerce(fromEnv, spec.kind, envName(flag), problems);
      if (v !== undefined) setPath(raw, spec.path, v);
      provenance.set(spec.path, { kind: "env", name: envName(flag) });
    }
    const fromFlag = flags[flag];
    if (fromFlag !== undefined) {
      const v = coerce(fromFlag, spec.kind, `--${flag}`, problems);
      if (v !== undefined) setPath(raw, spec.path, v);
      provenance.set(spec.path, { kind: "flag", flag });
    }
  }
  // A misspelt variable would otherwise be ignored without a word (a notice: executors and
  // the operator CLI read other SCALEIO_FRAMEWORK_ variables).
  const PREFIX = "SCALEIO_FRAMEWORK_";
  const settings = Object.keys(OPTIONS).map((f) => envName(f).slice(PREFIX.length));
  for (const name of Object.keys(env)) {
    const rest = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : undefined;
    if (rest === undefined || settings.includes(rest)) continue;
    if (SECRET_SOURCES.some((s) => s.env === name)) continue;
    const hint = didYouMean(rest, settings, (n) => PREFIX + n);
    if (hint) notices.push(`${name} is not a setting and is ignored${hint}`);
  }
  for (const key of Object.keys(flags)) {
    if (
      flags[key] !== undefined &&
      !Object.hasOwn(OPTIONS, key) &&
      !Object.hasOwn(SECRET_OPTIONS, key)
    ) {
      problems.push(
        `unknown option --${key}${didYouMean(key, [...Object.keys(OPTIONS), ...Object.keys(SECRET_OPTIONS)], (f) => `--${f}`)}`,
      );
    }
  }

  const secrets: Secrets = {};
  for (const src of SECRET_SOURCES) {
    const file = flags[src.fileFlag];
    const inline = src.inlineFlag ? flags[src.inlineFlag] : undefined;
    if (typeof file === "string") secrets[src.key] = readSecretFile(file, src.what, problems);
    else if (typeof inline === "string") {
      secrets[src.key] = new Secret(inline, `--${src.inlineFlag}`);
      notices.push(
        `the ${src.what} was given on the command line; prefer ${src.env} or --${src.fileFlag}`,
      );
    } else if (env[src.env]) secrets[src.key] = new Secret(env[src.env]!, src.env);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...provenance.explain(parsed.error.issues, raw, settersOf(OPTIONS, envName)));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = parsed.data!;
  if (config.mesos.principal && !secrets.mesosSecret) {
    notices.push(
      `principal '${config.mesos.principal}' has no secret: the master must not require authentication`,
    );
  }
  return { config, secrets, notices };
}
