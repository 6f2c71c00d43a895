// Leader election among schedulers sharing one ZooKeeper state store (the ZooKeeper recipe):
// each candidate creates an ephemeral sequential znode `<root>/_election/c_<uuid>_<seq>`;
// the lowest sequence leads; every other candidate watches the one just before it, so a
// leader's end wakes one standby only. The leader's znode is the store's fence: each write
// is a transaction that also checks it exists, so a leader whose session ended (killed,
// paused past its session timeout, cut off) can write nothing, even before it notices.
// A standby's fence is a znode that never exists: it cannot write at all.
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import zookeeper from "node-zookeeper-client";
import type { Stat } from "node-zookeeper-client";
import type { ZkStateStore } from "../store/zk-store.js";
import { StoreError } from "../store/store.js";
import { ZK, zkCode } from "../store/zk-connection.js";
import { Backoff } from "../mesos/backoff.js";

/** This process does not lead (or no longer does): it must not act for the framework. */
export class NotLeaderError extends Error {
  readonly code = "NOT_LEADER";
  readonly retryable = false;
  override name = "NotLeaderError";
}

/** What a candidate publishes in its znode; GET /v1/leader answers the leader's. */
export interface CandidateInfo {
  id: string;
  pid: number;
  /** This scheduler's API URL, where a standby sends clients for changes. */
  api: string;
  /** ISO time it became leader (only once it leads). */
  since?: string;
}

export interface LeaderView {
  /** Whether this process leads. */
  leader: boolean;
  /** The leader's info, when one is known. */
  current: CandidateInfo | undefined;
}

export interface ElectorEvents {
  /** This process leads now (its writes are fenced by its election znode). */
  elected: [CandidateInfo];
  /** This process stopped leading (its session ended); it stands by again. */
  deposed: [string];
  /** The known leader changed (or none is known: undefined). */
  leader: [CandidateInfo | undefined];
  /** A problem that does not end the election (it retries). */
  warning: [string];
}

/** The sequence number ZooKeeper appends to a candidate's znode. */
export const SEQ = /_(\d{10})$/;
/** The folder of the election below the store's root. */
export const ELECTION = "_election";

export interface ElectorOptions {
  /** Stable name of this scheduler (default: a random UUID). */
  id?: string;
  api: string;
  pid?: number;
  now?: () => Date;
}

export class LeaderElector extends EventEmitter<ElectorEvents> {
  readonly dir: string;
  readonly info: CandidateInfo;
  private znode: string | undefined;
  private leading = false;
  private current: CandidateInfo | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  private readonly onExpired = () => this.sessionEnded();
  private readonly onConnected = () => this.check();

  constructor(
    private readonly store: ZkStateStore,
    opts: ElectorOptions,
  ) {
    super();
    this.dir = `${store.root}/${ELECTION}`;
    this.info = { id: opts.id ?? randomUUID(), pid: opts.pid ?? process.pid, api: opts.api };
    this.now = opts.now ?? (() => new Date());
    // Until elected, nothing this process writes may land.
    store.setFence(`${this.dir}/standby-never-exists`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Proves with a round trip to ZooKeeper that this process still leads: its election znode
   * (sequential, so only ever its own) still exists. Rejects otherwise, stepping down when
   * the znode is gone. Asked before each Mesos subscription.
   */
  async confirm(): Promise<void> {
    const mine = this.znode;
    if (!this.leading || !mine) throw new NotLeaderError("this scheduler does not lead");
    const stat = await this.store.connection.run<Stat | null>(
      `confirming ${mine}`,
      (c, cb) => c.exists(mine, (err, st) => cb(err, st ?? null)),
      { idempotent: true },
    );
    if (!stat) {
      if (this.znode === mine) this.znode = undefined;
      this.stepDown("election znode gone");
      this.check();
    }
    if (!stat || !this.leading) throw new NotLeaderError("this scheduler no longer leads");
  }

  view(): LeaderView {
    return { leader: this.leading, current: this.current };
  }

  start(): void {
    this.store.connection.on("expired", this.onExpired);
    this.store.connection.on("connected", this.onConnected);
    this.check();
  }

  /** Leaves the election: a leader's znode is removed so a standby takes over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.store.connection.off("expired", this.onExpired);
    this.store.connection.off("connected", this.onConnected);
    await this.running;
    const mine = this.znode;
    this.stepDown("stopped");
    if (mine) {
      await this.store.connection
        .run<void>(`removing ${mine}`, (c, cb) => c.remove(mine, -1, (err) => cb(err, undefined)))
        .catch((err: unknown) => {
          // The znode is ephemeral: it goes with the session anyway.
          if (zkCode(err) !== ZK.NO_NODE)
            this.emit("warning", `leaving the election: ${String(err)}`);
        });
    }
  }

  private sessionEnded(): void {
    // The ephemeral znode went with the session: stand by, then join again as a new candidate.
    this.znode = undefined;
    this.stepDown("ZooKeeper session ended");
    this.check();
  }

  private stepDown(why: string): void {
    this.store.setFence(`${this.dir}/standby-never-exists`);
    if (!this.leading) return;
    this.leading = false;
    this.emit("deposed", why);
  }

  /** Runs one election round at a time; a request during a round runs one more. */
  private check(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .then(
        () => this.backoff.reset(),
        (err: unknown) => {
          if (this.stopped) return;
          this.emit("warning", `leader election: ${(err as Error).message ?? String(err)}`);
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.check(), this.backoff.next());
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.check();
        }
      });
  }

  private async round(): Promise<void> {
    const conn = this.store.connection;
    if (!this.znode) this.znode = await this.join();
    const children = await conn.run<string[]>(
      `listing ${this.dir}`,
      (c, cb) => c.getChildren(this.dir, (err, names) => cb(err, names)),
      { idempotent: true },
    );
    const ordered = children
      .filter((n) => SEQ.test(n))
      .sort((a, b) => Number(SEQ.exec(a)![1]) - Number(SEQ.exec(b)![1]));
    const mine = this.znode.slice(this.dir.length + 1);
    const at = ordered.indexOf(mine);
    if (at < 0) {
      // Our znode is gone (the session that made it ended): join again.
      this.znode = undefined;
      this.stepDown("election znode gone");
      this.again = true;
      return;
    }
    if (at === 0) {
      if (!this.leading) await this.lead();
      // Its own znode removed (by an operator, or its session's end): a new round.
      const stat = await conn.run<Stat | null>(
        `watching ${this.znode}`,
        (c, cb) =>
          c.exists(
            this.znode!,
            () => this.check(),
            (err, st) => cb(err, st ?? null),
          ),
        { idempotent: true },
      );
      if (!stat) this.again = true;
      return;
    }
    this.stepDown("another candidate leads");
    // Learn the leader (watching its data), then watch the candidate just before us.
    await this.readLeader(`${this.dir}/${ordered[0]!}`);
    const before = `${this.dir}/${ordered[at - 1]!}`;
    const stat = await conn.run<Stat | null>(
      `watching ${before}`,
      (c, cb) =>
        c.exists(
          before,
          () => this.check(),
          (err, st) => cb(err, st ?? null),
        ),
      { idempotent: true },
    );
    if (!stat) this.again = true; // gone meanwhile: look again
  }

  private async join(): Promise<string> {
    const conn = this.store.connection;
    await conn
      .run<string>(`creating ${this.dir}`, (c, cb) =>
        c.create(this.dir, this.store.acl, zookeeper.CreateMode.PERSISTENT, cb),
      )
      .catch((err: unknown) => {
        if (zkCode(err) !== ZK.NODE_EXISTS) throw err;
      });
    const data = Buffer.from(JSON.stringify(this.info));
    return conn.run<string>(`joining the election under ${this.dir}`, (c, cb) =>
      c.create(
        `${this.dir}/c_${this.info.id}_`,
        data,
        this.store.acl,
        zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
        cb,
      ),
    );
  }

  private async lead(): Promise<void> {
    const path = this.znode!;
    const info: CandidateInfo = { ...this.info, since: this.now().toISOString() };
    // Published for standbys and GET /v1/leader; failing means the session ended.
    await this.store.connection.run<void>(`publishing ${path}`, (c, cb) =>
      c.setData(path, Buffer.from(JSON.stringify(info)), -1, (err) => cb(err, undefined)),
    );
    if (this.stopped || this.znode !== path) return;
    this.store.setFence(path);
    this.leading = true;
    this.setCurrent(info);
    this.emit("elected", info);
  }

  private async readLeader(path: string): Promise<void> {
    let data: Buffer;
    try {
      data = await this.store.connection.run<Buffer>(
        `reading ${path}`,
        (c, cb) =>
          c.getData(
            path,
            () => this.check(),
            (err, d) => cb(err, d),
          ),
        { idempotent: true },
      );
    } catch (err) {
      if (zkCode(err) === ZK.NO_NODE) {
        this.again = true;
        return;
      }
      throw err;
    }
    try {
      this.setCurrent(JSON.parse(data.toString("utf8")) as CandidateInfo);
    } catch (err) {
      throw new StoreError("CORRUPT", `election znode ${path} does not hold candidate JSON`, {
        cause: err,
      });
    }
  }

  private setCurrent(info: CandidateInfo | undefined): void {
    if (JSON.stringify(info) === JSON.stringify(this.current)) return;
    this.current = info;
    this.emit("leader", info);
  }
}
