// Where the scheduler's state lives, from `--state` (file:///path or zk://hosts/path) or,
// without it, `--state-dir`; and opening that store.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ZkUrl } from "../mesos/detector/zk-url.js";
import type { Secret } from "../common/secret.js";
import { FileStateStore } from "./file-store.js";
import { StoreError, type StateStore } from "./store.js";
import { parseStoreUrl, ZkStateStore } from "./zk-store.js";

export type StateLocation = { kind: "file"; dir: string } | { kind: "zk"; url: ZkUrl };

/** The location named by `--state`, else the directory of `--state-dir`. */
export function stateLocation(state: { dir: string; url?: string | undefined }): StateLocation {
  const url = state.url?.trim();
  if (!url) return { kind: "file", dir: resolve(state.dir) };
  if (/^zk:\/\//i.test(url)) return { kind: "zk", url: parseStoreUrl(url) };
  if (/^file:\/\//i.test(url)) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new StoreError(
        "BAD_URL",
        `state URL ${JSON.stringify(url)} is not a local file URL (file:///absolute/path): ${(err as Error).message}`,
      );
    }
    return { kind: "file", dir };
  }
  throw new StoreError(
    "BAD_URL",
    `state URL ${JSON.stringify(url)}: use file:///path or zk://host:port[,host:port...]/path`,
  );
}

/** Why a `--state` URL cannot be used (never echoing credentials), or undefined. */
export function stateUrlProblem(url: string): string | undefined {
  try {
    stateLocation({ dir: ".", url });
    return undefined;
  } catch (err) {
    if (err instanceof StoreError) return err.message;
    throw err;
  }
}

/** The location for logs and answers (a ZooKeeper URL never carries credentials here). */
export function describeLocation(loc: StateLocation): string {
  return loc.kind === "file" ? loc.dir : loc.url.toString();
}

export interface OpenStateOptions {
  /** `user:password` for ZooKeeper digest ACLs (the zk store only). */
  zkAuth?: Secret | undefined;
  zkSessionTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

export async function openStateStore(
  loc: StateLocation,
  opts: OpenStateOptions = {},
): Promise<StateStore> {
  if (loc.kind === "file") {
    if (opts.zkAuth) opts.onWarning?.("--zk-auth-file is ignored: the state is in a directory");
    return FileStateStore.open(loc.dir);
  }
  return ZkStateStore.open(loc.url, {
    ...(opts.zkAuth ? { auth: opts.zkAuth } : {}),
    ...(opts.zkSessionTimeoutMs ? { sessionTimeoutMs: opts.zkSessionTimeoutMs } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
}
