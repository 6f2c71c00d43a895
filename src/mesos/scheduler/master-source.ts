// Where the scheduler client finds the leading master. A fixed URL is the simplest source;
// master detectors (static list, ZooKeeper) implement the same interface.
import { MesosConfigError } from "../errors.js";

export interface MasterSource {
  /** Resolves with the base URL (`scheme://host:port`) of the master believed to lead. */
  leader(signal: AbortSignal): Promise<string>;
  /** That master did not work out (refused, redirected elsewhere, stream died): look again. */
  invalidate?(url: string): void;
  /** What is being asked for the leader (e.g. `zk://zk1:2181/mesos`), for log lines. */
  readonly label?: string;
  /** Why no leader is known right now, if the source knows (e.g. ZooKeeper unreachable). */
  problem?(): string | undefined;
}

/** Normalises `host:port` or `http(s)://host:port[/]` to an origin URL. */
export function normaliseMasterUrl(text: string, defaultScheme = "http"): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${defaultScheme}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new MesosConfigError(`invalid master address '${text}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MesosConfigError(`master address '${text}' must use http or https`);
  }
  return url.origin;
}

/** A single master given by URL: always the answer, even after a redirect elsewhere failed. */
export function fixedMaster(url: string): MasterSource {
  const origin = normaliseMasterUrl(url);
  return { leader: async () => origin, label: origin };
}

/** What a master detector offers that the scheduler client needs. */
export interface DetectorLike {
  start(): void;
  stop(): Promise<void>;
  next(signal?: AbortSignal): Promise<{ url: string }>;
  invalidate(url?: string): void;
  /** Detection problems (retried by the detector) and stretches without a leader. */
  on?(event: "error", listener: (error: Error) => void): unknown;
  on?(event: "noLeader", listener: (reason: string) => void): unknown;
  on?(event: "leader", listener: () => void): unknown;
}

/**
 * Adapts a started-or-not master detector to the scheduler client's MasterSource. The
 * detector's latest problem (cleared when a leader is found) is what the client reports
 * while it waits for a leader.
 */
export function detectorSource(
  detector: DetectorLike,
  label?: string,
): MasterSource & { close(): Promise<void> } {
  let problem: string | undefined;
  detector.on?.("error", (err) => (problem = err.message));
  detector.on?.("noLeader", (reason) => (problem ??= reason));
  detector.on?.("leader", () => (problem = undefined));
  detector.start();
  return {
    leader: async (signal) => (await detector.next(signal)).url,
    invalidate: (url) => detector.invalidate(url),
    close: () => detector.stop(),
    ...(label !== undefined ? { label } : {}),
    problem: () => problem,
  };
}
