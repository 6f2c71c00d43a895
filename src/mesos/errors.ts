// Typed errors of the Mesos library. Each carries a stable `code` so callers can branch
// without parsing messages.

export class MesosError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export type RecordIOErrorCode =
  | "RECORDIO_BAD_HEADER"
  | "RECORDIO_EMPTY_HEADER"
  | "RECORDIO_ZERO_LENGTH"
  | "RECORDIO_TOO_LARGE"
  | "RECORDIO_TRUNCATED";

/** The byte stream is not valid RecordIO; the stream carrying it must be closed. */
export class RecordIOError extends MesosError {
  constructor(code: RecordIOErrorCode, message: string) {
    super(code, message);
  }
}

/** A record decoded but is not a usable message (bad UTF-8/JSON, no `type`). */
export class MesosProtocolError extends MesosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("PROTOCOL", message, options);
  }
}

/** A Mesos event of a known type that lacks or mistypes a field the framework reads. */
export class InvalidEventError extends MesosProtocolError {
  readonly eventType: string;
  readonly problem: string;
  constructor(eventType: string, problem: string) {
    super(`${eventType} event: ${problem}`);
    this.eventType = eventType;
    this.problem = problem;
  }
}

const MAX_EXCERPT = 200;

/**
 * An answer's body fit for a log line: an HTML page is reduced to its title (or its text),
 * whitespace is collapsed, and the result is cut to 200 characters.
 */
export function bodyExcerpt(body: string, max = MAX_EXCERPT): string {
  let text = body;
  if (/<(!doctype|html|head|body|title|h1|p|pre)\b/i.test(text)) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
    text = (title ?? text.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ")).replace(
      /<[^>]*>/g,
      " ",
    );
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Mesos answered with a status code the call did not expect. */
export class MesosHttpError extends MesosError {
  readonly status: number;
  /** The whole body as received; the message carries only an excerpt. */
  readonly body: string;
  constructor(status: number, body: string, context: string) {
    const detail = bodyExcerpt(body);
    super(`HTTP_${status}`, `${context}: HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * The master URL answers, but not as a Mesos master does (404 on the scheduler API, or a
 * 200 without a stream id): retrying cannot help, the configuration is wrong.
 */
export class NotAMesosMasterError extends MesosError {
  readonly url: string;
  constructor(url: string, why: string) {
    super("NOT_A_MESOS_MASTER", `${url} is not a Mesos master: ${why}`);
    this.url = url;
  }
}

/** A request did not complete in its time limit. */
export class MesosTimeoutError extends MesosError {
  constructor(message: string) {
    super("TIMEOUT", message);
  }
}

/** The subscription stream went silent for too many heartbeat intervals. */
export class HeartbeatTimeoutError extends MesosError {
  constructor(silentMs: number) {
    super("HEARTBEAT_TIMEOUT", `no record on the event stream for ${silentMs} ms`);
  }
}

/** No leading master could be found (yet). */
export class NoLeaderError extends MesosError {
  constructor(message: string) {
    super("NO_LEADER", message);
  }
}

/** Invalid input given to the library (configuration, URLs, environment). */
export class MesosConfigError extends MesosError {
  constructor(message: string) {
    super("CONFIG", message);
  }
}

/** The master could not be reached (connection refused, reset, DNS...). */
export class MesosConnectionError extends MesosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONNECTION", message, options);
  }
}

/** A call was made while no subscription is active (Mesos would answer 403). */
export class NotSubscribedError extends MesosError {
  constructor(what: string) {
    super("NOT_SUBSCRIBED", `cannot send ${what}: not subscribed`);
  }
}

/** Another scheduler instance subscribed with our framework id; this one must stand down. */
export class FrameworkFailedOverError extends MesosError {
  constructor(message: string) {
    super("FRAMEWORK_FAILED_OVER", message);
  }
}

/** The master removed the framework (teardown or failover timeout); its id is dead forever. */
export class FrameworkRemovedError extends MesosError {
  constructor(message: string) {
    super("FRAMEWORK_REMOVED", message);
  }
}

/** The master refused the subscription (ERROR event, or a 4xx that retrying cannot fix). */
export class SubscriptionRefusedError extends MesosError {
  constructor(message: string) {
    super("SUBSCRIPTION_REFUSED", message);
  }
}

// --- executor client (src/mesos/executor) ---

/** A MESOS_* variable of the executor environment is missing or invalid. */
export class ExecutorEnvironmentError extends MesosConfigError {
  readonly variable: string;
  readonly value: string | undefined;
  constructor(variable: string, value: string | undefined, why: string) {
    const shown = value === undefined ? "unset" : `'${value}'`;
    super(`${variable} (${shown}) ${why}`);
    this.variable = variable;
    this.value = value;
  }
}

export type ExecutorUpdateRefusal =
  "TASK_STAGING" | "TASK_KILLING_NOT_SUPPORTED" | "AFTER_TERMINAL" | "UNKNOWN_TASK" | "STOPPED";

/** The executor client refused to send a status update that Mesos forbids. */
export class ExecutorUpdateRefusedError extends MesosError {
  readonly reason: ExecutorUpdateRefusal;
  readonly taskId: string;
  constructor(reason: ExecutorUpdateRefusal, taskId: string, message: string) {
    super("UPDATE_REFUSED", message);
    this.reason = reason;
    this.taskId = taskId;
  }
}

/** The executor lost the agent for good: its tasks must be stopped and the process must exit. */
export class ExecutorDisconnectedError extends MesosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EXECUTOR_DISCONNECTED", message, options);
  }
}

/** The agent did not come back within MESOS_RECOVERY_TIMEOUT (or the registration window). */
export class ExecutorRecoveryTimeoutError extends MesosError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(
      "RECOVERY_TIMEOUT",
      `could not (re)subscribe to the agent within ${timeoutMs} ms`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}

export type DetectorErrorCode =
  | "ZK_UNREACHABLE"
  | "ZK_SESSION_EXPIRED"
  | "ZK_AUTH_FAILED"
  | "ZK_ERROR"
  | "MASTER_INFO_INVALID"
  | "MASTER_UNREACHABLE";

/**
 * Master detection hit a problem it keeps retrying through (ZooKeeper unreachable, a
 * session expired, a leader znode holding bad data, a master not answering).
 */
export class DetectorError extends MesosError {
  constructor(code: DetectorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
