// The embedded, crash-safe store (the default): one JSON file per key under a state
// directory. A write goes to a temporary file that is fsynced and renamed over the old one,
// then the directory is fsynced, so after a crash each key holds either the old or the new
// value, never a torn one. A lock file keeps two schedulers off the same directory.
// Versions live in memory: the lock makes this process the only writer, so they hold for
// as long as the store is open. An atomic commit of several keys is journaled first (redo
// log, replayed on open) so a crash leaves all of it or none.
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
import {
  checkKey,
  checkOps,
  conflict,
  StoreError,
  toJson,
  type Expect,
  type StateStore,
  type Versioned,
  type WriteOp,
} from "./store.js";
import { currentHolder, formatHolder, holderRunning, parseHolder } from "./lock-holder.js";
import { CoalescedRunner } from "../common/coalesced-runner.js";
import { KeyQueue } from "./key-queue.js";

const SUFFIX = ".json";
const JOURNALS = ".journal";

/** One key's part of a journaled commit: its new JSON text, or null to delete it. */
interface JournalEntry {
  key: string;
  text: string | null;
}

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
  /** Each key's version once seen or written; the counter never goes back. */
  private readonly versions = new Map<string, number>();
  private nextVersion = 1;

  private constructor(dir: string) {
    this.dir = dir;
    this.lockPath = join(dir, ".lock");
  }

  /** Opens (creating if needed) a state directory and takes its lock. */
  static async open(dir: string): Promise<FileStateStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new FileStateStore(dir);
    store.lock();
    try {
      await store.replayJournals();
    } catch (err) {
      await store.close();
      throw err;
    }
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
    // A commit applies its keys one by one: wait for it, so it is seen whole.
    const committing = this.commits.get(key);
    // Its failure is its caller's to handle; this read only waits for it to end.
    if (committing) await committing.catch(() => undefined);
    const text = await this.readText(key, path);
    return text === undefined ? undefined : this.parse<T>(key, text);
  }

  private async readText(key: string, path: string): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StoreError("IO", `cannot read ${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  private parse<T>(key: string, text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StoreError("CORRUPT", `stored value of ${key} is not valid JSON`, { cause: err });
    }
  }

  /** Writes and deletes of one key apply in call order. */
  private readonly queue = new KeyQueue();
  /** Commits under way, by each of their keys. */
  private readonly commits = new Map<string, Promise<unknown>>();

  private inOrder<R>(key: string | string[], op: () => Promise<R>): Promise<R> {
    return this.queue.run(typeof key === "string" ? [key] : key, op);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.ensureOpen();
    const path = this.path(key);
    // Serialized now: the value as it is at the call, whatever it becomes meanwhile.
    const text = toJson(key, value);
    return this.inOrder(key, async () => {
      await this.write(path, text);
      this.bump(key);
    });
  }

  private bump(key: string): number {
    const v = this.nextVersion++;
    this.versions.set(key, v);
    return v;
  }

  /** The key's version now (call inside its queue), or undefined when it has no value. */
  private async currentVersion(key: string): Promise<number | undefined> {
    const text = await this.readText(key, this.path(key));
    if (text === undefined) {
      this.versions.delete(key);
      return undefined;
    }
    return this.versions.get(key) ?? this.bump(key);
  }

  private async expectOf(key: string, expect: Expect): Promise<void> {
    const actual = await this.currentVersion(key);
    const ok = expect === "absent" ? actual === undefined : actual === expect;
    if (!ok) throw conflict(key, expect, actual);
  }

  async getVersioned<T = unknown>(key: string): Promise<Versioned<T> | undefined> {
    this.ensureOpen();
    const path = this.path(key);
    return this.inOrder(key, async () => {
      const text = await this.readText(key, path);
      if (text === undefined) {
        this.versions.delete(key);
        return undefined;
      }
      const value = this.parse<T>(key, text);
      return { value, version: this.versions.get(key) ?? this.bump(key) };
    });
  }

  async setIf(key: string, value: unknown, expect: Expect): Promise<number> {
    const versions = await this.commit([{ op: "set", key, value, expect }]);
    return versions[key]!;
  }

  async deleteIf(key: string, version: number): Promise<void> {
    await this.commit([{ op: "delete", key, expect: version }]);
  }

  async commit(ops: readonly WriteOp[]): Promise<Record<string, number>> {
    this.ensureOpen();
    checkOps(ops);
    const entries: JournalEntry[] = [];
    for (const op of ops) {
      if (op.op === "set") entries.push({ key: op.key, text: toJson(op.key, op.value) });
      else if (op.op === "delete") entries.push({ key: op.key, text: null });
    }
    const keys = ops.map((op) => op.key);
    const run = this.inOrder(keys, async () => {
      for (const op of ops) if (op.expect !== undefined) await this.expectOf(op.key, op.expect);
      if (entries.length > 1) await this.journaled(entries);
      else if (entries.length === 1) await this.apply(entries[0]!);
      const out: Record<string, number> = {};
      for (const e of entries) {
        if (e.text === null) this.versions.delete(e.key);
        else out[e.key] = this.bump(e.key);
      }
      return out;
    });
    if (entries.length > 1) {
      for (const k of keys) this.commits.set(k, run);
      const forget = () => {
        for (const k of keys) if (this.commits.get(k) === run) this.commits.delete(k);
      };
      run.then(forget, forget);
    }
    return run;
  }

  private apply(e: JournalEntry): Promise<void> {
    return e.text === null ? this.remove(e.key) : this.write(this.path(e.key), e.text);
  }

  /**
   * Journal (durable), apply, then drop the journal (durably, before any later write of
   * these keys starts: a journal replayed after them would undo them).
   */
  private async journaled(entries: JournalEntry[]): Promise<void> {
    const dir = join(this.dir, JOURNALS);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Names sort in commit order, across restarts too.
    const name = `${Date.now().toString().padStart(15, "0")}-${process.pid}-${++this.tmpSeq}${SUFFIX}`;
    const journal = join(dir, name);
    await this.write(journal, JSON.stringify(entries));
    for (const e of entries) await this.apply(e);
    await unlink(journal);
    await fsyncDir(dir);
  }

  /** Finishes the commits a crash interrupted (each entry is a whole value: safe to redo). */
  private async replayJournals(): Promise<void> {
    const dir = join(this.dir, JOURNALS);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(SUFFIX)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const name of names) {
      const path = join(dir, name);
      let entries: JournalEntry[];
      try {
        entries = JSON.parse(await readFile(path, "utf8")) as JournalEntry[];
        for (const e of entries) checkKey(e.key);
      } catch (err) {
        throw new StoreError(
          "CORRUPT",
          `commit journal ${path} is unreadable; the keys it names may be half written`,
          { cause: err },
        );
      }
      for (const e of entries) await this.apply(e);
      await unlink(path);
      await fsyncDir(dir);
    }
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
    return this.inOrder(key, async () => {
      await this.remove(key);
      this.versions.delete(key);
    });
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
        // Keys never start with "." (the lock, probes, the journals do).
        if (e.name.startsWith(".")) continue;
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
    await this.queue.idle();
    try {
      if (parseHolder(readFileSync(this.lockPath, "utf8"))?.pid === process.pid)
        unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }
}
