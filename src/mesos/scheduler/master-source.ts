// Where the scheduler client finds the leading master. A fixed URL is the simplest source;
// master detectors (static list, ZooKeeper) implement the same interface.
import { MesosConfigError } from "../errors.js";

export interface MasterSource {
  /** Resolves with the base URL (`scheme://host:port`) of the master believed to lead. */
  leader(signal: AbortSignal): Promise<string>;
  /** That master did not work out (refused, redirected elsewhere, stream died): look again. */
  invalidate?(url: string): void;
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
  return { leader: async () => origin };
}

/** What a master detector offers that the scheduler client needs. */
export interface DetectorLike {
  start(): void;
  stop(): Promise<void>;
  next(signal?: AbortSignal): Promise<{ url: string }>;
  invalidate(url?: string): void;
}

/** Adapts a started-or-not master detector to the scheduler client's MasterSource. */
export function detectorSource(detector: DetectorLike): MasterSource & { close(): Promise<void> } {
  detector.start();
  return {
    leader: async (signal) => (await detector.next(signal)).url,
    invalidate: (url) => detector.invalidate(url),
    close: () => detector.stop(),
  };
}
