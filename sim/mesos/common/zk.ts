// ZooKeeper leader detection and master membership (reference 2.1): a master creates an
// ephemeral sequential znode `json.info_<seq>` holding MasterInfo JSON under the
// configured path; the lowest sequence number leads. Masters and agents watch the
// children to follow the leader (agents pass no MasterInfo and create nothing).
import zookeeper from "node-zookeeper-client";
import type { MasterInfo } from "../../../src/mesos/types/index.js";
import { shutdownClient } from "../../../src/mesos/detector/zookeeper.js";

export interface ZkHooks {
  onLeader(info: MasterInfo | undefined): void;
  log(line: string): void;
}

export function parseZkUrl(url: string): { connect: string; path: string } {
  const m = /^zk:\/\/(?:[^@/]+@)?([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`invalid ZooKeeper URL '${url}'`);
  const path = m[2] && m[2] !== "/" ? m[2].replace(/\/+$/, "") : "/";
  return { connect: m[1]!, path };
}

/** ZooKeeper requests wait for a reconnection indefinitely; starting must not. */
function withTimeout<T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`ZooKeeper ${what} timed out`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export class ZkMembership {
  private client: zookeeper.Client;
  private readonly connect: string;
  private readonly path: string;
  private stopped = false;
  private node: string | undefined;

  constructor(
    url: string,
    private readonly info: MasterInfo | undefined,
    private readonly hooks: ZkHooks,
  ) {
    const { connect, path } = parseZkUrl(url);
    this.path = path;
    this.connect = connect;
    this.client = zookeeper.createClient(connect, { sessionTimeout: 10_000, retries: 3 });
  }

  async start(): Promise<void> {
    // node-zookeeper-client can hang in the handshake with a server that is still starting:
    // a client not connected within a few seconds is dropped and a fresh one tried.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 4000);
        this.client.once("connected", () => {
          clearTimeout(timer);
          resolve(true);
        });
        this.client.connect();
      });
      if (connected) break;
      shutdownClient(this.client);
      if (Date.now() > deadline) throw new Error("ZooKeeper connection timed out");
      this.hooks.log("zk: no session yet, retrying with a new client");
      this.client = zookeeper.createClient(this.connect, { sessionTimeout: 10_000, retries: 3 });
    }
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        this.client.mkdirp(this.path, (err) => (err ? reject(err) : resolve())),
      ),
      "mkdirp",
    );
    const base = this.path === "/" ? "/json.info_" : `${this.path}/json.info_`;
    if (!this.info) return this.watch();
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        this.client.create(
          base,
          Buffer.from(JSON.stringify(this.info), "utf8"),
          zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
          (err, path) => {
            if (err) return reject(err);
            this.node = path;
            resolve();
          },
        ),
      ),
      "create",
    );
    this.watch();
  }

  private watch(): void {
    if (this.stopped) return;
    this.client.getChildren(
      this.path,
      () => this.watch(),
      (err, children) => {
        if (err || this.stopped) {
          if (err) this.hooks.log(`zk getChildren failed: ${String(err)}`);
          return;
        }
        const members = children
          .map((c) => /^json\.info_(\d+)$/.exec(c))
          .filter((x): x is RegExpExecArray => !!x)
          .sort((a, b) => Number(a[1]) - Number(b[1]));
        const lowest = members[0];
        if (!lowest) return this.hooks.onLeader(undefined);
        const node = this.path === "/" ? `/${lowest[0]}` : `${this.path}/${lowest[0]}`;
        this.client.getData(node, (e, data) => {
          if (e || this.stopped) return;
          try {
            this.hooks.onLeader(JSON.parse(data.toString("utf8")) as MasterInfo);
          } catch {
            this.hooks.log(`zk node ${node} has no MasterInfo JSON`);
          }
        });
      },
    );
  }

  /** Deletes this master's znode: another contender becomes the leader. */
  async abdicate(): Promise<void> {
    const node = this.node;
    if (!node) return;
    this.node = undefined;
    await withTimeout(
      new Promise<void>((resolve) => this.client.remove(node, () => resolve())),
      "remove",
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // close() on a client that is not connected throws or hangs in this library.
    shutdownClient(this.client);
  }
}
