// The state store on ZooKeeper, for schedulers that may run on any of several machines.
//
// Layout: a key `a/b` is the znode `<root>/a/b`; its data is one marker byte and the value
// (0x01 + JSON) or, for a value too large for one znode (ZooKeeper refuses over 1 MB), a
// manifest (0x02 + JSON: generation, chunk count, bytes, SHA-256) whose chunks are children
// `_<generation>.<n>` (a key segment never starts with "_"). Empty data means no value: a
// deleted key keeps its znode with empty data, so its version (the znode's data version)
// only grows and a compare-and-set can never match an older incarnation of the key.
//
// Every write is one ZooKeeper transaction (multi-op) whose operations are conditional on
// the versions just read (and on the fence, when one is set: the election znode of the
// leader, so a deposed leader's writes fail). A large value's chunks are written before the
// transaction under a fresh generation nobody reads until the manifest commits; the chunks
// of the value it replaced are removed after. With `auth`, every znode carries a digest
// ACL for that user only.
import { createHash, randomBytes } from "node:crypto";
import zookeeper from "node-zookeeper-client";
import type { ACL, Client, Stat, Transaction } from "node-zookeeper-client";
import { MesosConfigError } from "../mesos/errors.js";
import { parseZkUrl, type ZkUrl } from "../mesos/detector/zk-url.js";
import { KeyQueue } from "./key-queue.js";
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
import { digestAcl, ZK, ZkConnection, zkCode, type ZkConnectionOptions } from "./zk-connection.js";

const INLINE = 0x01;
const CHUNKED = 0x02;
const EMPTY = Buffer.alloc(0);
/** How often a read starts over when a large value was replaced while it read the chunks. */
const READ_ATTEMPTS = 5;
/** How often a write starts over when an unconditional op met a concurrent change. */
const WRITE_ATTEMPTS = 20;

export interface ZkStateStoreOptions extends ZkConnectionOptions {
  /** A value up to this size (bytes of JSON) is stored in its key's znode. Default 256 KiB. */
  inlineMaxBytes?: number;
  /** Size of each chunk of a larger value. Default 512 KiB (ZooKeeper refuses 1 MB). */
  chunkBytes?: number;
  /** Inline bytes one transaction may carry; larger values go to chunks. Default 768 KiB. */
  commitMaxBytes?: number;
  /** How long open() waits for the first session. Default: twice the session timeout. */
  connectTimeoutMs?: number;
  /** Problems that do not fail an operation (leftover chunks, an unprotected store). */
  onWarning?: (message: string) => void;
}

interface Manifest {
  gen: string;
  count: number;
  bytes: number;
  sha256: string;
}

interface Current {
  data: Buffer;
  version: number;
}

/** What one key of a commit does in the transaction. */
interface Planned {
  op: WriteOp;
  path: string;
  /** Read before the transaction; undefined when the znode does not exist. */
  cur: Current | undefined;
  /** New data for the key's znode (set: the value or manifest; delete: EMPTY). */
  data?: Buffer;
  /** Chunks written for this commit (removed again if it fails). */
  newChunks: string[];
}

const hasValue = (cur: Current | undefined): cur is Current => !!cur && cur.data.length > 0;

function manifestOf(data: Buffer): Manifest | undefined {
  if (data[0] !== CHUNKED) return undefined;
  return JSON.parse(data.subarray(1).toString("utf8")) as Manifest;
}

/** Everything for anyone: only when no credentials are given (a warning says so). */
const OPEN_ACL = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id("world", "anyone"))];

const chunkName = (gen: string, n: number) => `_${gen}.${n}`;

/** ZooKeeper URL of a store: credentials go in the auth file, never in the URL. */
export function parseStoreUrl(input: string): ZkUrl {
  let url: ZkUrl;
  try {
    url = parseZkUrl(input);
  } catch (err) {
    if (err instanceof MesosConfigError) throw new StoreError("BAD_URL", err.message);
    throw err;
  }
  if (url.credentials) {
    throw new StoreError(
      "BAD_URL",
      `ZooKeeper state URL ${url.toString()} carries credentials, which show in process listings: put "user:password" in a file given with --zk-auth-file`,
    );
  }
  if (url.path === "/") {
    throw new StoreError(
      "BAD_URL",
      `ZooKeeper state URL ${url.toString()} has no path: give the framework its own, e.g. /scaleio-framework`,
    );
  }
  return url;
}

export class ZkStateStore implements StateStore {
  readonly root: string;
  readonly connection: ZkConnection;
  /** The ACL of every znode the store creates (the election's too). */
  readonly acl: ACL[];
  private readonly inlineMax: number;
  private readonly chunkBytes: number;
  private readonly commitMax: number;
  private readonly warn: (message: string) => void;
  private readonly queue = new KeyQueue();
  private fencePath: string | undefined;
  private closed = false;

  private constructor(
    readonly url: ZkUrl,
    private readonly opts: ZkStateStoreOptions,
  ) {
    this.root = url.path;
    this.connection = new ZkConnection(url.connectionString, opts);
    this.acl = opts.auth ? digestAcl(opts.auth) : OPEN_ACL;
    this.inlineMax = opts.inlineMaxBytes ?? 256 * 1024;
    this.chunkBytes = opts.chunkBytes ?? 512 * 1024;
    this.commitMax = opts.commitMaxBytes ?? 768 * 1024;
    this.warn = opts.onWarning ?? (() => undefined);
  }

  /** Connects, creates the root path if needed and checks that nobody else may use it. */
  static async open(url: ZkUrl | string, opts: ZkStateStoreOptions = {}): Promise<ZkStateStore> {
    const store = new ZkStateStore(typeof url === "string" ? parseStoreUrl(url) : url, opts);
    try {
      await store.connection.ready(opts.connectTimeoutMs ?? 2 * store.connection.sessionTimeoutMs);
      await store.mkdirs(store.root);
      await store.checkRootAcl();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private async checkRootAcl(): Promise<void> {
    if (!this.opts.auth) {
      this.warn(
        `state in ZooKeeper at ${this.url.toString()} without --zk-auth-file: anyone who reaches ZooKeeper can read and change it`,
      );
      return;
    }
    const acls = await this.connection.run<ACL[]>(
      `reading the ACL of ${this.root}`,
      (c, cb) => c.getACL(this.root, (err, acl) => cb(err, acl)),
      { idempotent: true },
    );
    const mine = this.acl[0]!.id;
    const foreign = acls.filter((a) => a.id.scheme !== mine.scheme || a.id.id !== mine.id);
    if (foreign.length > 0) {
      // Name the schemes only: a digest id is a hash of someone's password.
      const who = foreign.map((a) =>
        a.id.scheme === "digest" ? "another digest user" : `${a.id.scheme}:${a.id.id}`,
      );
      throw new StoreError(
        "ACL",
        `znode ${this.root} is open to ${[...new Set(who)].join(", ")}: others could read or change the framework's state; restrict its ACL to the framework's digest user or choose another path`,
      );
    }
  }

  /**
   * Makes every later write conditional on this znode existing (a leader's election znode):
   * once it is gone, writes fail with FENCED and change nothing. Undefined lifts the fence.
   */
  setFence(path: string | undefined): void {
    this.fencePath = path;
  }

  private path(key: string): string {
    return `${this.root}/${checkKey(key).join("/")}`;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError("CLOSED", "state store is closed");
  }

  // --- ZooKeeper requests -------------------------------------------------------------

  private async read(path: string): Promise<Current | undefined> {
    try {
      return await this.connection.run<Current>(
        `reading ${path}`,
        (c, cb) =>
          c.getData(path, (err, data, stat) =>
            cb(err, { data: data ?? EMPTY, version: (stat as Stat | undefined)?.version ?? 0 }),
          ),
        { idempotent: true },
      );
    } catch (err) {
      if (zkCode(err) === ZK.NO_NODE) return undefined;
      throw this.unexpected(err, `reading ${path}`);
    }
  }

  private async exists(path: string): Promise<boolean> {
    const stat = await this.connection
      .run<Stat | null>(
        `reading ${path}`,
        (c, cb) => c.exists(path, (err, st) => cb(err, st ?? null)),
        { idempotent: true },
      )
      .catch((err: unknown) => {
        throw this.unexpected(err, `reading ${path}`);
      });
    return stat !== null;
  }

  /** Creates a znode (and missing parents) with empty data, if it does not exist. */
  private async mkdirs(path: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const missing: string[] = [];
      for (let p = path; p && !(await this.exists(p)); p = p.slice(0, p.lastIndexOf("/"))) {
        missing.unshift(p);
      }
      if (missing.length === 0) return;
      try {
        await this.createFenced(missing.map((p) => ({ path: p, data: EMPTY })));
        return;
      } catch (err) {
        // Created meanwhile by another writer: look again.
        if (zkCode(err) !== ZK.NODE_EXISTS || attempt >= WRITE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Creates znodes in one transaction, with the fence: a deposed leader creates nothing,
   * not even an empty parent or a chunk nobody reads.
   */
  private async createFenced(items: { path: string; data: Buffer }[]): Promise<void> {
    const fence = this.fencePath;
    const what = `creating ${items[0]!.path}`;
    const failed = await this.connection
      .run<number | undefined>(what, (c, cb) => {
        const tx = c.transaction();
        for (const it of items)
          tx.create(it.path, it.data, this.acl, zookeeper.CreateMode.PERSISTENT);
        if (fence) tx.check(fence);
        tx.commit((err, results: { err: number }[] | undefined) => {
          if (!err) return cb(null, undefined);
          const index = results?.findIndex((r) => r.err !== 0) ?? -1;
          if (index < 0) return cb(err, undefined);
          cb(null, index);
        });
      })
      .catch((err: unknown) => {
        throw this.unexpected(err, what);
      });
    if (failed === undefined) return;
    if (fence && failed === items.length) throw fenced(fence);
    throw new ZkResultError(failed < items.length ? ZK.NODE_EXISTS : -1, what);
  }

  private async removeQuietly(paths: string[], why: string): Promise<void> {
    const results = await Promise.allSettled(
      paths.map((p) =>
        this.connection.run<void>(`removing ${p}`, (c, cb) =>
          c.remove(p, (err) => cb(err, undefined)),
        ),
      ),
    );
    const failed = results.filter(
      (r) => r.status === "rejected" && zkCode(r.reason) !== ZK.NO_NODE,
    ).length;
    if (failed > 0) {
      this.warn(`${failed} chunk(s) of ${why} could not be removed and stay in ZooKeeper`);
    }
  }

  private unexpected(err: unknown, what: string): unknown {
    if (err instanceof StoreError) return err;
    return new StoreError("ZK_ERROR", `ZooKeeper failed ${what}: ${String(err)}`, { cause: err });
  }

  // --- reads ----------------------------------------------------------------------------

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.getVersioned<T>(key))?.value;
  }

  async getVersioned<T = unknown>(key: string): Promise<Versioned<T> | undefined> {
    this.ensureOpen();
    const path = this.path(key);
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const cur = await this.read(path);
      if (!hasValue(cur)) return undefined;
      const text = await this.valueText(key, path, cur.data);
      if (text === undefined) continue; // replaced while its chunks were read: read again
      try {
        return { value: JSON.parse(text) as T, version: cur.version };
      } catch (err) {
        throw new StoreError("CORRUPT", `stored value of ${key} is not valid JSON`, { cause: err });
      }
    }
    throw new StoreError(
      "UNAVAILABLE",
      `${key} kept changing while it was read (${READ_ATTEMPTS} attempts)`,
    );
  }

  /** The JSON text a key's data stands for; undefined when a chunk vanished meanwhile. */
  private async valueText(key: string, path: string, data: Buffer): Promise<string | undefined> {
    if (data[0] === INLINE) return data.subarray(1).toString("utf8");
    let m: Manifest | undefined;
    try {
      m = manifestOf(data);
    } catch (err) {
      throw new StoreError("CORRUPT", `stored manifest of ${key} is not valid JSON`, {
        cause: err,
      });
    }
    if (!m) throw new StoreError("CORRUPT", `stored value of ${key} has an unknown format`);
    const parts = await Promise.all(
      Array.from({ length: m.count }, (_, n) => this.read(`${path}/${chunkName(m.gen, n)}`)),
    );
    if (parts.some((p) => p === undefined)) return undefined;
    const bytes = Buffer.concat(parts.map((p) => p!.data));
    if (bytes.length !== m.bytes || createHash("sha256").update(bytes).digest("hex") !== m.sha256) {
      throw new StoreError("CORRUPT", `stored chunks of ${key} do not match their manifest`);
    }
    return bytes.toString("utf8");
  }

  async list(prefix: string): Promise<string[]> {
    this.ensureOpen();
    const trimmed = prefix.replace(/\/$/, "");
    const base = trimmed ? this.path(trimmed) : this.root;
    const out: string[] = [];
    const walk = async (path: string, keyPrefix: string): Promise<void> => {
      let children: string[];
      try {
        children = await this.connection.run<string[]>(
          `listing ${path}`,
          (c, cb) => c.getChildren(path, (err, names) => cb(err, names)),
          { idempotent: true },
        );
      } catch (err) {
        if (zkCode(err) === ZK.NO_NODE) return;
        throw this.unexpected(err, `listing ${path}`);
      }
      await Promise.all(
        children
          .filter((name) => !name.startsWith("_"))
          .map(async (name) => {
            const child = `${path}/${name}`;
            const key = keyPrefix ? `${keyPrefix}/${name}` : name;
            const stat = await this.connection.run<Stat | null>(
              `reading ${child}`,
              (c, cb) => c.exists(child, (err, st) => cb(err, st ?? null)),
              { idempotent: true },
            );
            if (stat && stat.dataLength > 0) out.push(key);
            if (stat && stat.numChildren > 0) await walk(child, key);
          }),
      );
    };
    await walk(base, trimmed);
    return out.sort();
  }

  // --- writes ---------------------------------------------------------------------------

  async set(key: string, value: unknown): Promise<void> {
    await this.commit([{ op: "set", key, value }]);
  }

  async delete(key: string): Promise<void> {
    await this.commit([{ op: "delete", key }]);
  }

  async setIf(key: string, value: unknown, expect: Expect): Promise<number> {
    return (await this.commit([{ op: "set", key, value, expect }]))[key]!;
  }

  async deleteIf(key: string, version: number): Promise<void> {
    await this.commit([{ op: "delete", key, expect: version }]);
  }

  async commit(ops: readonly WriteOp[]): Promise<Record<string, number>> {
    this.ensureOpen();
    checkOps(ops);
    // Serialized now: the values as they are at the call, whatever they become meanwhile.
    const texts = new Map<string, Buffer>();
    for (const op of ops) {
      if (op.op === "set") texts.set(op.key, Buffer.from(toJson(op.key, op.value), "utf8"));
    }
    const paths = ops.map((op) => this.path(op.key));
    // The fence at the call: moved since (deposed), the write can never land.
    const fence = this.fencePath;
    return this.queue.run(
      ops.map((op) => op.key),
      async () => {
        // Unconditional writes are idempotent (the same values again): one cut off by a
        // lost connection or session is sent again until the deadline, so a ZooKeeper
        // restart delays them instead of failing them. A conditional one reports
        // UNAVAILABLE: whether it landed is for the caller to read back.
        const idempotent = ops.every((op) => op.expect === undefined);
        const deadline = Date.now() + 2 * this.connection.opTimeoutMs;
        for (let attempt = 1; ; attempt++) {
          let out: Record<string, number> | undefined;
          try {
            out = await this.tryCommit(ops, paths, texts);
          } catch (err) {
            const transient =
              err instanceof StoreError &&
              (err.code === "UNAVAILABLE" || err.code === "SESSION_EXPIRED");
            if (transient && fence && this.fencePath !== fence) throw fenced(fence);
            if (!(idempotent && transient && Date.now() < deadline && !this.closed)) throw err;
            continue;
          }
          if (out) return out;
          if (attempt >= WRITE_ATTEMPTS) {
            throw new StoreError(
              "UNAVAILABLE",
              `keys ${ops.map((o) => o.key).join(", ")} kept changing under other writers`,
            );
          }
        }
      },
    );
  }

  /** One attempt; undefined when an unconditional op met a concurrent change (try again). */
  private async tryCommit(
    ops: readonly WriteOp[],
    paths: string[],
    texts: Map<string, Buffer>,
  ): Promise<Record<string, number> | undefined> {
    const planned: Planned[] = [];
    for (const [i, op] of ops.entries()) {
      const path = paths[i]!;
      let cur = await this.read(path);
      // A key written or checked needs its znode for a versioned transaction op.
      if (!cur && (op.op !== "delete" || op.expect !== undefined)) {
        await this.mkdirs(path);
        cur = await this.read(path);
      }
      if (op.expect !== undefined) {
        const actual = hasValue(cur) ? cur.version : undefined;
        const ok = op.expect === "absent" ? actual === undefined : actual === op.expect;
        if (!ok) throw conflict(op.key, op.expect, actual);
      }
      planned.push({ op, path, cur, newChunks: [] });
    }
    const oldChunks = planned.flatMap((p) => this.chunksOf(p));
    try {
      await this.prepareData(planned, texts);
      const outcome = await this.transact(planned);
      if (outcome !== "ok") {
        await this.dropNewChunks(planned);
        if (outcome === "retry") return undefined;
        throw outcome;
      }
    } catch (err) {
      if (err instanceof StoreError && (err.code === "CONFLICT" || err.code === "FENCED")) {
        await this.dropNewChunks(planned);
      }
      throw err;
    }
    if (oldChunks.length > 0) await this.removeQuietly(oldChunks, "replaced values");
    const out: Record<string, number> = {};
    for (const p of planned) if (p.op.op === "set") out[p.op.key] = p.cur!.version + 1;
    return out;
  }

  /** The chunk paths of the value a set or delete replaces. */
  private chunksOf(p: Planned): string[] {
    if (p.op.op === "check" || !p.cur) return [];
    let m: Manifest | undefined;
    try {
      m = manifestOf(p.cur.data);
    } catch {
      return []; // a corrupt manifest names no chunks to remove; the write replaces it
    }
    return m ? Array.from({ length: m.count }, (_, n) => `${p.path}/${chunkName(m.gen, n)}`) : [];
  }

  /** Decides inline or chunked for each value (chunks written now) so the commit fits. */
  private async prepareData(planned: Planned[], texts: Map<string, Buffer>): Promise<void> {
    const sets = planned.filter((p) => p.op.op === "set");
    const chunked = new Set(sets.filter((p) => texts.get(p.op.key)!.length > this.inlineMax));
    let inline = sets.filter((p) => !chunked.has(p));
    const size = () => inline.reduce((n, p) => n + texts.get(p.op.key)!.length + 1, 0);
    // Largest first until the transaction fits.
    inline.sort((a, b) => texts.get(b.op.key)!.length - texts.get(a.op.key)!.length);
    while (size() > this.commitMax && inline.length > 0) chunked.add(inline.shift()!);
    inline = inline.filter((p) => !chunked.has(p));
    for (const p of planned) {
      if (p.op.op === "delete") p.data = EMPTY;
      else if (p.op.op === "set" && !chunked.has(p)) {
        p.data = Buffer.concat([Buffer.from([INLINE]), texts.get(p.op.key)!]);
      }
    }
    for (const p of chunked) p.data = await this.writeChunks(p, texts.get(p.op.key)!);
  }

  private async writeChunks(p: Planned, bytes: Buffer): Promise<Buffer> {
    const gen = randomBytes(6).toString("hex");
    const count = Math.ceil(bytes.length / this.chunkBytes);
    // Registered before they are written: a failure half way removes those that exist.
    p.newChunks = Array.from({ length: count }, (_, n) => `${p.path}/${chunkName(gen, n)}`);
    await Promise.all(
      p.newChunks.map((path, n) =>
        this.createFenced([
          { path, data: bytes.subarray(n * this.chunkBytes, (n + 1) * this.chunkBytes) },
        ]),
      ),
    );
    const manifest: Manifest = {
      gen,
      count,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
    return Buffer.concat([Buffer.from([CHUNKED]), Buffer.from(JSON.stringify(manifest))]);
  }

  private async dropNewChunks(planned: Planned[]): Promise<void> {
    const paths = planned.flatMap((p) => p.newChunks);
    if (paths.length > 0) await this.removeQuietly(paths, "a failed write");
  }

  /**
   * The transaction: every op conditional on the version read, plus the fence. "ok", "retry"
   * (an unconditional op raced with another writer), or the error to throw.
   */
  private async transact(planned: Planned[]): Promise<"ok" | "retry" | StoreError> {
    const fence = this.fencePath;
    const indexOf: (Planned | "fence")[] = [];
    const build = (c: Client): Transaction => {
      const tx = c.transaction();
      for (const p of planned) {
        if (!p.cur) continue; // an unconditional delete of a key that never existed
        if (p.op.op === "check" || (p.op.op === "delete" && !hasValue(p.cur))) {
          tx.check(p.path, 1);
        } else {
          tx.setData(p.path, p.data!, 1);
        }
        exactVersion(tx, p.cur.version);
        indexOf.push(p);
      }
      if (fence) {
        tx.check(fence);
        indexOf.push("fence");
      }
      return tx;
    };
    let failure: { index: number; code: number } | undefined;
    try {
      failure = await this.connection.run<{ index: number; code: number } | undefined>(
        "a write",
        (c, cb) => {
          indexOf.length = 0;
          const tx = build(c);
          if (indexOf.length === 0) return cb(null, undefined);
          tx.commit((err, results: { err: number }[] | undefined) => {
            if (!err) return cb(null, undefined);
            const index = results?.findIndex((r) => r.err !== 0) ?? -1;
            if (index < 0) return cb(err, undefined);
            cb(null, { index, code: results![index]!.err });
          });
        },
      );
    } catch (err) {
      throw this.unexpected(err, "a write");
    }
    if (!failure) return "ok";
    const at = indexOf[failure.index];
    if (at === "fence") return fenced(fence!);
    if (at && (failure.code === ZK.BAD_VERSION || failure.code === ZK.NO_NODE)) {
      if (at.op.expect === undefined) return "retry";
      const now = await this.read(at.path);
      return conflict(at.op.key, at.op.expect, hasValue(now) ? now.version : undefined);
    }
    if (failure.code === ZK.NO_AUTH) {
      return new StoreError(
        "ACL",
        "ZooKeeper refused a write: the ACL does not grant these credentials",
      );
    }
    return new StoreError("ZK_ERROR", `ZooKeeper refused a write (code ${failure.code})`);
  }

  async checkWritable(): Promise<void> {
    this.ensureOpen();
    // Answered at once while cut off (/health must not hang for an operation's deadline).
    if (!this.connection.isConnected) {
      throw new StoreError(
        "UNAVAILABLE",
        `not connected to ZooKeeper (${this.connection.connectionString})`,
      );
    }
    const fence = this.fencePath;
    await this.connection
      .run<void>("a probe", (c, cb) => {
        const tx = c.transaction().check(this.root);
        if (fence) tx.check(fence);
        tx.commit((err) => cb(err, undefined));
      })
      .catch((err: unknown) => {
        if (fence && zkCode(err) === ZK.NO_NODE) throw fenced(fence);
        throw this.unexpected(err, "a probe");
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already asked for finish before the session goes.
    await this.queue.idle();
    await this.connection.close();
  }
}

function fenced(fence: string): StoreError {
  return new StoreError(
    "FENCED",
    `write refused: this scheduler's election znode ${fence} is gone (it no longer leads)`,
  );
}

/** A ZooKeeper result code of one op of a transaction, readable with zkCode(). */
class ZkResultError extends Error {
  constructor(
    private readonly zkResult: number,
    what: string,
  ) {
    super(`ZooKeeper refused ${what} (code ${zkResult})`);
  }
  getCode(): number {
    return this.zkResult;
  }
}

/**
 * Sets the version of the op just added. The library turns a version of 0 into -1 ("any
 * version", `version || -1`), which would make the first write after a create unconditional.
 */
function exactVersion(tx: Transaction, version: number): void {
  const ops = (tx as unknown as { ops: { version?: number }[] }).ops;
  ops[ops.length - 1]!.version = version;
}
