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

/** Mesos answered with a status code the call did not expect. */
export class MesosHttpError extends MesosError {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, context: string) {
    const detail = body.trim().slice(0, 500);
    super(`HTTP_${status}`, `${context}: HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.status = status;
    this.body = body;
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
