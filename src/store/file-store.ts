// The embedded, crash-safe store (the default): one JSON file per key under a state
// directory. A write goes to a temporary file that is fsynced and renamed over the old one,
// then the directory is fsynced, so after a crash each key holds either the old or the new
// value, never a torn one. A lock file keeps two schedulers off the same directory.
import { mkdir, readFile, readdir, rename, rm, unlink, writeFile } from "node:fs/promises";
import {
  linkSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  constants,
  open as openCb,
  fsync as fsyncCb,
  close as closeCb,
  writeFile as writeFileCb,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { checkKey, StoreError, type StateStore } from "./store.js";
import { currentHolder, formatHolder, holderRunning, parseHolder } from "./lock-holder.js";
import { CoalescedRunner } from "../common/coalesced-runner.js";

const SUFFIX = ".json";

// The callback forms: a store write is a few small syscalls, and fs/promises' FileHandle
// costs more CPU around each of them than the syscall itself (a large deploy writes
// thousands of values).

/** Writes a new file and fsyncs it before resolving (`flush`, Node >= 20.10). */
function writeDurable(path: string, text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    writeFileCb(path, text, { mode: 0o600, flush: true }, (err) => (err ? reject(err) : resolve())),
  );
}

function fsyncDir(dir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    openCb(dir, constants.O_RDONLY, (err, fd) => {
      if (err) return reject(err);
      fsyncCb(fd, (syncErr) => closeCb(fd, () => (syncErr ? reject(syncErr) : resolve())));
    }),
  );
}

/**
 * Creates a file with its whole content at once, failing with EEXIST if it exists: written
 * under a private name, then hard-linked into place, so nobody ever reads it half written.
 */
function createWithContent(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A lock file's text; empty when it vanished meanwhile (its holder just released it). */
function readLockText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly lockPath: string;
  private closed = false;
  /**
   * One directory fsync per folder at a time, shared by every rename made before it starts
   * (group commit): a burst of writes into one folder (hundreds of task records or plan
   * shards at once) costs a few directory syncs, not one each.
   */
  private readonly dirSyncs = new Map<string, CoalescedRunner>();
  private tmpSeq = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.lockPath = join(dir, ".lock");
  }

  /** Opens (creating if needed) a state directory and takes its lock. */
  static async open(dir: string): Promise<FileStateStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new FileStateStore(dir);
    store.lock();
    return store;
  }

  private lock(): void {
    const me = currentHolder();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        createWithContent(this.lockPath, formatHolder(me));
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const holder = parseHolder(readLockText(this.lockPath));
        if (holder && holder.pid !== process.pid && holderRunning(holder)) {
          throw new StoreError(
            "LOCKED",
            `state directory ${this.dir} is in use by process ${holder.pid}; only one scheduler may use it`,
          );
        }
        // A lock left by a process that is gone, a zombie or a PID since reused: take it over.
        rmSync(this.lockPath, { force: true });
      }
    }
    throw new StoreError("LOCKED", `could not lock state directory ${this.dir}`);
  }

  private path(key: string): string {
    return join(this.dir, ...checkKey(key)) + SUFFIX;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError("CLOSED", "state store is closed");
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.ensureOpen();
    const path = this.path(key);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StoreError("IO", `cannot read ${key}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StoreError("CORRUPT", `stored value of ${key} is not valid JSON`, { cause: err });
    }
  }

  /** The last write or delete of each key: the next one of that key starts after it. */
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Writes and deletes of one key apply in call order: two writes in flight at once could
   * otherwise rename in either order, and an older value would win.
   */
  private inOrder(key: string, op: () => Promise<void>): Promise<void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(op);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  async set(key: string, value: unknown): Promise<void> {
    this.ensureOpen();
    const path = this.path(key);
    // Serialized now: the value as it is at the call, whatever it becomes meanwhile.
    const text = JSON.stringify(value);
    if (text === undefined) throw new StoreError("BAD_VALUE", `value for ${key} is not JSON`);
    return this.inOrder(key, () => this.write(path, text));
  }

  private async write(path: string, text: string): Promise<void> {
    const dir = dirname(path);
    // Unique within this process, and the lock keeps other processes out.
    const tmp = `${path}.${process.pid}-${++this.tmpSeq}.tmp`;
    // The folder usually exists: create it only when writing says it does not.
    await writeDurable(tmp, text).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeDurable(tmp, text);
    });
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await this.syncDir(dir);
  }

  private syncDir(dir: string): Promise<void> {
    let runner = this.dirSyncs.get(dir);
    if (!runner) {
      runner = new CoalescedRunner(() => fsyncDir(dir));
      this.dirSyncs.set(dir, runner);
    }
    return runner.run();
  }

  async delete(key: string): Promise<void> {
    this.ensureOpen();
    return this.inOrder(key, () => this.remove(key));
  }

  private async remove(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
      await this.syncDir(dirname(this.path(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    this.ensureOpen();
    const base = prefix ? join(this.dir, ...checkKey(prefix.replace(/\/$/, ""))) : this.dir;
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.endsWith(SUFFIX)) {
          out.push(relative(this.dir, full).slice(0, -SUFFIX.length).split(sep).join("/"));
        }
      }
    };
    await walk(base);
    return out.sort();
  }

  async checkWritable(): Promise<void> {
    this.ensureOpen();
    const probe = join(this.dir, `.probe-${process.pid}`);
    await writeFile(probe, "ok");
    await unlink(probe);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already asked for finish before the lock goes.
    await Promise.allSettled([...this.tails.values()]);
    try {
      if (parseHolder(readFileSync(this.lockPath, "utf8"))?.pid === process.pid)
        unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }
}
