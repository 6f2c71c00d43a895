// Leader election on a real ZooKeeper with several in-process schedulers (each its own
// store and session): one leads, the others stand by; a leader that lost its znode or its
// session writes nothing (fencing) and stands by again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { LeaderElector } from "../../../src/ha/elector.js";
import { leaderRoutes } from "../../../src/api/routes/leader.js";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore, type ZkStateStoreOptions } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { closeZk, connectZk, removeNode } from "../../support/zk-client.js";
import { TcpProxy } from "../../support/tcp-proxy.js";
import { waitForEvent, waitUntil } from "../../support/wait.js";

let server: ZooKeeperServer;
let n = 0;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  server = await ZooKeeperServer.start();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await server?.destroy();
});

interface Candidate {
  store: ZkStateStore;
  elector: LeaderElector;
}

async function candidate(
  root: string,
  name: string,
  opts: ZkStateStoreOptions = {},
  connect = server.connectionString,
): Promise<Candidate> {
  const store = await ZkStateStore.open(`zk://${connect}${root}`, {
    spinDelayMs: 100,
    backoff: { initialMs: 50, maxMs: 200 },
    ...opts,
  });
  const elector = new LeaderElector(store, { id: name, api: `http://127.0.0.${++n % 200}:35000` });
  cleanups.push(async () => {
    await elector.stop();
    await store.close();
  });
  elector.start();
  return { store, elector };
}

/** Waits until exactly one of `cs` leads and every one of them knows it; returns it. */
async function settled(cs: Candidate[], timeoutMs = 15_000): Promise<Candidate> {
  let leader: Candidate | undefined;
  await waitUntil(
    () => {
      const leaders = cs.filter((c) => c.elector.isLeader);
      if (leaders.length !== 1) return false;
      leader = leaders[0]!;
      const id = leader.elector.info.id;
      return cs.every((c) => c.elector.view().current?.id === id);
    },
    { timeoutMs, what: "one leader everybody knows" },
  );
  return leader!;
}

const fenced = (e: unknown) => e instanceof StoreError && e.code === "FENCED";

test("three schedulers: one leads and writes, the standbys cannot write; GET /v1/leader", async () => {
  const root = `/elect-${++n}/f`;
  const cs = await Promise.all(["a", "b", "c"].map((name) => candidate(root, name)));
  const leader = await settled(cs);
  const standbys = cs.filter((c) => c !== leader);

  await leader.store.set("framework/id", { value: "f-1" });
  for (const s of standbys) {
    await assert.rejects(s.store.set("framework/id", { value: "mine" }), fenced);
    // Standbys read the leader's state.
    assert.deepEqual(await s.store.get("framework/id"), { value: "f-1" });
  }

  const app = Fastify();
  leaderRoutes(app, standbys[0]!.elector, { read: [] });
  const res = await app.inject({ method: "GET", url: "/v1/leader" });
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.leader, false);
  assert.equal(body.id, leader.elector.info.id);
  assert.equal(body.pid, process.pid);
  assert.equal(body.api, leader.elector.info.api);
  assert.ok(typeof body.since === "string" && !Number.isNaN(Date.parse(body.since)));
  const own = Fastify();
  leaderRoutes(own, leader.elector, { read: [] });
  assert.equal(
    ((await own.inject({ method: "GET", url: "/v1/leader" })).json() as { leader: boolean }).leader,
    true,
  );
  await Promise.all([app.close(), own.close()]);
});

test("the leader leaves: a standby leads at once, the others follow it", async () => {
  const root = `/handover-${++n}/f`;
  const cs = await Promise.all(["a", "b", "c"].map((name) => candidate(root, name)));
  const first = await settled(cs);
  await first.elector.stop();
  const rest = cs.filter((c) => c !== first);
  const second = await settled(rest);
  assert.notEqual(second, first);
  await second.store.set("k", 1);
  await assert.rejects(first.store.set("k", 2), fenced);
  assert.equal(await second.store.get("k"), 1);
});

test("a leader whose election znode is gone writes nothing, stands by and rejoins", async () => {
  const root = `/fence-${++n}/f`;
  const cs = await Promise.all(["a", "b", "c"].map((name) => candidate(root, name)));
  const leader = await settled(cs);
  await leader.store.set("k", "from the first leader");
  const before = (await leader.store.getVersioned("k"))!.version;

  const deposed = waitForEvent(leader.elector, "deposed", { timeoutMs: 15_000 });
  // What the end of its session does to its znode, done from outside.
  const raw = await connectZk(server);
  cleanups.push(() => closeZk(raw));
  const mine = (leader.elector as unknown as { znode: string }).znode;
  await removeNode(raw, mine);
  // Whether or not it noticed yet, its writes cannot land.
  await assert.rejects(leader.store.set("k", "stale"), fenced);
  await deposed;
  const next = await settled(cs);
  assert.equal((await next.store.getVersioned("k"))!.version, before, "nothing written");
  await next.store.set("k", "from the next leader");
  // The old leader is a standby again (a new candidate), still unable to write.
  if (next !== leader) await assert.rejects(leader.store.set("k", "stale"), fenced);
  assert.equal(await next.store.get("k"), "from the next leader");
});

test("a leader cut off past its session timeout (as if paused) loses the lead and writes nothing", async () => {
  const root = `/pause-${++n}/f`;
  const proxy = await TcpProxy.start({ host: server.host, port: server.port });
  cleanups.push(() => proxy.close());
  // The first candidate joins first (it leads), through a proxy that can go silent.
  const paused = await candidate(
    root,
    "paused",
    { sessionTimeoutMs: 1000 },
    proxy.connectionString,
  );
  await settled([paused]);
  const others = await Promise.all(["b", "c"].map((name) => candidate(root, name)));
  await settled([paused, ...others]);
  await paused.store.set("k", 1);
  const v = (await paused.store.getVersioned("k"))!.version;

  const deposed = waitForEvent(paused.elector, "deposed", { timeoutMs: 20_000 });
  proxy.blackholeExisting();
  // The server ends the silent session; a standby leads within the timeout and a margin.
  const next = await settled(others, 15_000);
  // The cut-off leader's write cannot land, whichever way it fails.
  await assert.rejects(paused.store.set("k", 99), (e: unknown) => e instanceof StoreError);
  await deposed;
  await settled([paused, ...others]);
  assert.equal(paused.elector.isLeader, false);
  assert.equal(paused.elector.view().current?.id, next.elector.info.id);
  assert.deepEqual(await next.store.getVersioned("k"), { value: 1, version: v });
  await assert.rejects(paused.store.set("k", 100), fenced);
});

test("confirm: the leader proves it still leads; a standby, or a leader whose znode is gone, is refused", async () => {
  const root = `/confirm-${++n}/c`;
  const cs = await Promise.all(["a", "b"].map((name) => candidate(root, name)));
  const leader = await settled(cs);
  const standby = cs.find((c) => c !== leader)!;
  await leader.elector.confirm();
  await assert.rejects(standby.elector.confirm(), { name: "NotLeaderError", code: "NOT_LEADER" });

  const raw = await connectZk(server);
  cleanups.push(() => closeZk(raw));
  await removeNode(raw, (leader.elector as unknown as { znode: string }).znode);
  // Asked right away (whether or not its watch fired yet), it no longer leads.
  await assert.rejects(leader.elector.confirm(), { name: "NotLeaderError" });
  assert.equal(leader.elector.isLeader, false);
});
