// The MESOS_* environment the agent gives a custom executor (reference 6.1), read once
// and validated into a typed configuration. Bad values name the variable and the value;
// the authentication token is never part of any message, JSON or inspect output.
import { inspect } from "node:util";
import { parseMesosDuration } from "../duration.js";
import { ExecutorEnvironmentError } from "../errors.js";

export const DEFAULT_RECOVERY_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS = 2_000;
export const DEFAULT_SHUTDOWN_GRACE_PERIOD_MS = 5_000;

const REDACTED = "[redacted]";

export interface ExecutorEnvironmentFields {
  frameworkId: string;
  executorId: string;
  /** Agent ID from MESOS_SLAVE_ID, when set (informational). */
  agentId?: string;
  /** `host:port` of the agent (IPv6 hosts in brackets). */
  agentEndpoint: string;
  /** `https` when the agent's libprocess runs with SSL (LIBPROCESS_SSL_ENABLED / SSL_ENABLED). */
  scheme: "http" | "https";
  /** MESOS_SANDBOX, else MESOS_DIRECTORY. */
  sandbox?: string;
  /** MESOS_DIRECTORY (host path of the sandbox), when set. */
  directory?: string;
  checkpoint: boolean;
  recoveryTimeoutMs: number;
  subscriptionBackoffMaxMs: number;
  shutdownGracePeriodMs: number;
  authenticationToken?: string;
}

/** The validated executor environment. `authenticationToken` is redacted when serialised. */
export class ExecutorEnvironment {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly agentId: string | undefined;
  readonly agentEndpoint: string;
  readonly scheme: "http" | "https";
  readonly sandbox: string | undefined;
  readonly directory: string | undefined;
  readonly checkpoint: boolean;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly shutdownGracePeriodMs: number;
  // A private field: invisible to JSON.stringify, Object.keys, spread and util.inspect.
  readonly #token: string | undefined;

  constructor(fields: ExecutorEnvironmentFields) {
    this.frameworkId = fields.frameworkId;
    this.executorId = fields.executorId;
    this.agentId = fields.agentId;
    this.agentEndpoint = fields.agentEndpoint;
    this.scheme = fields.scheme;
    this.sandbox = fields.sandbox;
    this.directory = fields.directory;
    this.checkpoint = fields.checkpoint;
    this.recoveryTimeoutMs = fields.recoveryTimeoutMs;
    this.subscriptionBackoffMaxMs = fields.subscriptionBackoffMaxMs;
    this.shutdownGracePeriodMs = fields.shutdownGracePeriodMs;
    this.#token = fields.authenticationToken;
    Object.freeze(this);
  }

  /** The bearer token for every call (MESOS_EXECUTOR_AUTHENTICATION_TOKEN); never log it. */
  get authenticationToken(): string | undefined {
    return this.#token;
  }

  /** `http(s)://<agent endpoint>/api/v1/executor`. */
  get agentUrl(): string {
    return `${this.scheme}://${this.agentEndpoint}/api/v1/executor`;
  }

  toJSON(): Record<string, unknown> {
    return {
      frameworkId: this.frameworkId,
      executorId: this.executorId,
      agentId: this.agentId,
      agentEndpoint: this.agentEndpoint,
      scheme: this.scheme,
      sandbox: this.sandbox,
      directory: this.directory,
      checkpoint: this.checkpoint,
      recoveryTimeoutMs: this.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: this.subscriptionBackoffMaxMs,
      shutdownGracePeriodMs: this.shutdownGracePeriodMs,
      authenticationToken: this.#token === undefined ? undefined : REDACTED,
    };
  }

  [inspect.custom](): string {
    return `ExecutorEnvironment ${inspect(this.toJSON())}`;
  }
}

type Env = Record<string, string | undefined>;

function fail(variable: string, value: string | undefined, why: string): never {
  throw new ExecutorEnvironmentError(variable, value, why);
}

/** Mesos' generic ID rules (reference 1.2). */
function readId(env: Env, variable: string): string {
  const value = env[variable];
  if (value === undefined || value === "") fail(variable, value, "is required");
  if (Buffer.byteLength(value, "utf8") > 255) fail(variable, value, "is longer than 255 bytes");
  if (value === "." || value === "..") fail(variable, value, "cannot be '.' or '..'");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f/\\]/.test(value)) {
    fail(variable, value, "contains a control character, '/' or '\\'");
  }
  return value;
}

/** Validates `host:port` (IPv6 in brackets) and returns it unchanged. */
function checkEndpoint(variable: string, raw: string, endpoint: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    fail(variable, raw, "is not an 'ip:port' address");
  }
  return endpoint;
}

function readEndpoint(env: Env): string {
  const endpoint = env.MESOS_AGENT_ENDPOINT;
  if (endpoint !== undefined && endpoint !== "") {
    return checkEndpoint("MESOS_AGENT_ENDPOINT", endpoint, endpoint);
  }
  // Older agents only give the libprocess PID, `slave(1)@ip:port`.
  const pid = env.MESOS_SLAVE_PID;
  if (pid !== undefined && pid !== "") {
    const at = pid.lastIndexOf("@");
    if (at <= 0) fail("MESOS_SLAVE_PID", pid, "is not a '<id>@<ip>:<port>' process id");
    return checkEndpoint("MESOS_SLAVE_PID", pid, pid.slice(at + 1));
  }
  fail("MESOS_AGENT_ENDPOINT", endpoint, "is required (or MESOS_SLAVE_PID)");
}

function readDuration(env: Env, variable: string, fallbackMs: number, allowZero: boolean): number {
  const value = env[variable];
  if (value === undefined || value === "") return fallbackMs;
  let ms: number;
  try {
    ms = parseMesosDuration(value);
  } catch {
    fail(variable, value, "is not a Mesos duration such as '2secs', '1.5secs' or '15mins'");
  }
  if (!Number.isFinite(ms) || ms < 0 || (!allowZero && ms === 0)) {
    fail(variable, value, allowZero ? "must not be negative" : "must be greater than zero");
  }
  return ms;
}

function readFlag(env: Env, variable: string): boolean {
  const value = env[variable];
  // The agent always sets MESOS_CHECKPOINT; an absent value means "not checkpointing", as in
  // the C++ executor library.
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  fail(variable, value, "must be '1' or '0'");
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes"].includes(value.toLowerCase());
}

/**
 * Reads and validates the executor environment (default: `process.env`).
 * Throws ExecutorEnvironmentError (a MesosConfigError) naming the variable and its value.
 * Recovery timeout and backoff max are only used when checkpointing, but a bad value is
 * reported either way.
 */
export function readExecutorEnvironment(env: Env = process.env): ExecutorEnvironment {
  const frameworkId = readId(env, "MESOS_FRAMEWORK_ID");
  const executorId = readId(env, "MESOS_EXECUTOR_ID");
  const agentEndpoint = readEndpoint(env);
  const checkpoint = readFlag(env, "MESOS_CHECKPOINT");
  const recoveryTimeoutMs = readDuration(
    env,
    "MESOS_RECOVERY_TIMEOUT",
    DEFAULT_RECOVERY_TIMEOUT_MS,
    true,
  );
  const subscriptionBackoffMaxMs = readDuration(
    env,
    "MESOS_SUBSCRIPTION_BACKOFF_MAX",
    DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS,
    false,
  );
  const shutdownGracePeriodMs = readDuration(
    env,
    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
    DEFAULT_SHUTDOWN_GRACE_PERIOD_MS,
    true,
  );
  const token = env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  const directory = env.MESOS_DIRECTORY || undefined;
  return new ExecutorEnvironment({
    frameworkId,
    executorId,
    agentId: env.MESOS_SLAVE_ID || undefined,
    agentEndpoint,
    scheme: isTrue(env.LIBPROCESS_SSL_ENABLED) || isTrue(env.SSL_ENABLED) ? "https" : "http",
    sandbox: env.MESOS_SANDBOX || directory,
    directory,
    checkpoint,
    recoveryTimeoutMs,
    subscriptionBackoffMaxMs,
    shutdownGracePeriodMs,
    authenticationToken: token === undefined || token === "" ? undefined : token,
  });
}
