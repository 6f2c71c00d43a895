// A standby answers the operator's reads from the copy of the leader's views in the store:
// the same answers as the leader's API (plans, filtered plans, nodes with their filters and
// pages, health, pools), marked as a standby's copy with its age and the leader's URL; no copy
// yet, a 503 naming the leader; changes still 503. The copy is read at most once a second,
// only its changed pieces, and never half of one publish and half of the next.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Secret } from "../../../src/common/secret.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError, type StateStore } from "../../../src/store/store.js";
import type { LeaderView } from "../../../src/ha/elector.js";
import { buildStandbyServer, NOT_LEADER } from "../../../src/ha/standby-server.js";
import { publishOperatorViews, ViewPublisher } from "../../../src/ha/view-publisher.js";
import { StoredViews } from "../../../src/ha/view-reader.js";
import { META_KEY, type ViewMeta, type ViewSet } from "../../../src/ha/views.js";
import { PermanentStepError } from "../../../src/framework/plan/types.js";
import { operatorFixture, PASSWORD, type OperatorFixture } from "../../support/operator-fixture.js";
import { waitUntil } from "../../support/wait.js";

const LEADER_API = "http://127.0.0.2:8080";
const leading: LeaderView = {
  leader: false,
  current: { id: "a", pid: 42, api: LEADER_API, since: "2026-12-03T16:00:00.000Z" },
};
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function openStore(): Promise<FileStateStore> {
  const dir = mkdtempSync(join(tmpdir(), "standby-reads-"));
  const store = await FileStateStore.open(dir);
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** A cluster in every node status: steps done, at work, failed; an agent lost. */
async function busyCluster(): Promise<OperatorFixture> {
  const f = await operatorFixture({ agents: 12 });
  cleanups.push(() => f.close());
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  for (const id of ["agent-3", "agent-4", "agent-10", "agent-11"]) f.platform.release(id);
  await f.sched.engine.setPlan({
    id: "extra",
    name: "Extra",
    strategy: "serial",
    phases: [
      {
        id: "x",
        name: "x",
        strategy: "parallel",
        steps: f.sched.agents.all().map((a) => ({
          id: `x/${a.agentId}`,
          name: `x on ${a.hostname}`,
          asset: a.agentId,
          run: async () => {
            if (a.agentId === "agent-4") throw new PermanentStepError(`disk on fire (${PASSWORD})`);
            return "x done";
          },
        })),
      },
    ],
  });
  // One step per agent at a time: the extra steps run on the agents released.
  await waitUntil(
    () =>
      f.view.index.page({ status: ["ok"] }).agents.length === 3 &&
      f.view.index.page({ status: ["error"] }).agents.length === 1,
  );
  await f.sched.agents.markLost("agent-5");
  return f;
}

test("a standby answers the leader's reads from the store, as the leader does, marked as its copy", async () => {
  const f = await busyCluster();
  const store = await openStore();
  const views = publishOperatorViews(store, f.view, {
    leader: () => ({ id: "a", api: LEADER_API }),
    minIntervalMs: 0,
    heartbeatMs: 60_000,
  });
  cleanups.push(() => views.stop());
  views.publisher.changed();
  await views.publisher.settled();
  const sb = buildStandbyServer({
    version: "1.2.3",
    election: { view: () => leading },
    views: new StoredViews(store, { maxAgeMs: 0 }),
  });
  cleanups.push(() => sb.close());

  const same = async (url: string) => {
    const want = await f.app.inject({ url });
    const got = await sb.inject({ url });
    assert.equal(got.statusCode, want.statusCode, `${url}: ${got.body}`);
    assert.deepEqual(got.json(), want.json(), url);
    return got;
  };
  for (const url of [
    "/v1/plans",
    "/v1/plans/deploy",
    "/v1/plans/deploy?status=COMPLETE",
    "/v1/plans/deploy?agent=host-1",
    "/v1/plans/extra?status=ERROR,COMPLETE&agent=host-4",
    "/v1/plans/extra?agent=agent-7",
    "/v1/plans/nope",
    "/v1/plans/deploy?bogus=1",
    "/v1/nodes",
    "/v1/nodes?status=ok",
    "/v1/nodes?status=error,lost",
    "/v1/nodes?q=HOST-1%3F",
    "/v1/nodes?q=127.0",
    "/v1/nodes/agent-3",
    "/v1/nodes/agent-99",
    "/v1/nodes?cursor=nonsense",
    "/v1/nodes?limit=0",
    "/v1/health",
    "/v1/pools",
  ])
    await same(url);
  // Pages, by hostname and by status, followed to their end with the cursors each gives.
  for (const first of [
    "/v1/nodes?limit=5",
    "/v1/nodes?sort=status&limit=4&status=ok,in-progress,lost",
  ]) {
    let url: string | undefined = first;
    let pages = 0;
    while (url) {
      const body = (await same(url)).json() as { next?: string };
      pages++;
      url = body.next ? `${first}&cursor=${body.next}` : undefined;
    }
    assert.ok(pages >= 3, `${first}: ${pages} pages`);
  }
  const summary = await sb.inject({ url: "/v1/summary" });
  const leaderSummary = (await f.app.inject({ url: "/v1/summary" })).json();
  assert.deepEqual(summary.json().plans, leaderSummary.plans);
  assert.equal(summary.json().platform, "gated");

  // Marked: a standby's copy, how old, and where the leader is. Secrets stay out.
  const plans = await sb.inject({ url: "/v1/plans/extra" });
  assert.equal(plans.headers["x-served-by"], "standby");
  assert.equal(plans.headers["x-leader"], LEADER_API);
  assert.match(String(plans.headers["x-view-age-ms"]), /^\d+$/);
  assert.match(String(plans.headers.age), /^\d+$/);
  assert.ok(!plans.body.includes(PASSWORD));
  assert.match(plans.body, /disk on fire \(\[redacted\]\)/);
  for (const k of await store.list("views"))
    assert.ok(!JSON.stringify(await store.get(k)).includes(PASSWORD), `${k} holds a secret`);

  // Changes still go to the leader.
  const post = await sb.inject({ method: "POST", url: "/v1/plans/deploy/pause", payload: {} });
  assert.equal(post.statusCode, 503);
  assert.equal(post.json().code, NOT_LEADER);
  assert.equal(post.json().leader, LEADER_API);
  // A step finishing shows on the standby once published.
  f.platform.release("agent-0");
  await waitUntil(() => f.view.node("agent-0")!.steps[0]!.status === "COMPLETE");
  await views.publisher.settled();
  await waitUntil(
    async () =>
      (await sb.inject({ url: "/v1/nodes/agent-0" })).json().steps[0].status === "COMPLETE",
    { what: "the standby shows the finished step" },
  );
});

test("no copy yet: reads are 503 with the leader's URL; a copy's age is told; protected reads need the token", async () => {
  const store = await openStore();
  let now = 1_000_000;
  const sb = buildStandbyServer({
    version: "1.2.3",
    election: { view: () => leading },
    views: new StoredViews(store, { maxAgeMs: 0, now: () => now }),
    now: () => now,
    apiToken: new Secret("tok-123456789", "api token"),
    protectReads: true,
  });
  cleanups.push(() => sb.close());
  const auth = { authorization: "Bearer tok-123456789" };
  assert.equal((await sb.inject({ url: "/v1/plans" })).statusCode, 401);
  const none = await sb.inject({ url: "/v1/plans", headers: auth });
  assert.equal(none.statusCode, 503);
  assert.equal(none.json().code, NOT_LEADER);
  assert.equal(none.json().leader, LEADER_API);
  assert.match(none.json().error, /no copy of the leader's views in the store yet/);

  const set = {
    summary: { platform: "t" },
    health: { status: "healthy", conditions: [] },
    pools: [],
    plans: [],
    nodes: [],
  } as unknown as ViewSet;
  const pub = new ViewPublisher(store, {
    collect: () => set,
    leader: () => ({ id: "a", api: LEADER_API }),
    redact: (t) => t,
    now: () => now,
  });
  pub.start();
  await pub.settled();
  await pub.stop();
  now += 5_500;
  const ok = await sb.inject({ url: "/v1/plans", headers: auth });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { plans: [] });
  assert.equal(ok.headers["x-view-age-ms"], "5500");
  assert.equal(ok.headers.age, "5");
  assert.equal((await sb.inject({ url: "/v1/nodes", headers: auth })).json().nodes.length, 0);
  // Routes a standby has no copy of still point to the leader.
  const events = await sb.inject({ url: "/v1/events/recent", headers: auth });
  assert.equal(events.statusCode, 503);
});

/** Counts reads per key. */
function counting(store: StateStore, onMeta?: (n: number) => unknown) {
  const reads: string[] = [];
  const wrapped = Object.assign(Object.create(store) as StateStore, {
    get: async (key: string) => {
      reads.push(key);
      if (key === META_KEY && onMeta) {
        const v = onMeta(reads.filter((k) => k === META_KEY).length);
        if (v !== undefined) return v;
      }
      return store.get(key);
    },
  });
  return { store: wrapped, reads };
}

function bigSet(tag: string): ViewSet {
  return {
    summary: { platform: tag },
    health: { status: "healthy", conditions: [] },
    pools: [],
    plans: [],
    nodes: Array.from({ length: 200 }, (_, i) => ({
      agentId: `agent-${i}`,
      hostname: `host-${i}`,
      ip: "127.0.0.1",
      attributes: {},
      lost: false,
      lastSeen: 1,
      roles: [tag],
      devices: [],
      steps: [],
    })),
  } as unknown as ViewSet;
}

test("the copy is read at most once a second, only its changed pieces, and never mixed", async () => {
  const base = await openStore();
  let set = bigSet("one");
  const pub = new ViewPublisher(base, {
    collect: () => set,
    leader: () => null,
    redact: (t) => t,
    minIntervalMs: 0,
  });
  pub.start();
  await pub.settled();

  let now = 0;
  const { store, reads } = counting(base);
  const copy = new StoredViews(store, { now: () => now });
  const sb: FastifyInstance = buildStandbyServer({
    version: "1.2.3",
    election: { view: () => leading },
    views: copy,
  });
  cleanups.push(() => sb.close());
  await Promise.all(Array.from({ length: 10 }, () => sb.inject({ url: "/v1/nodes" })));
  const firstReads = reads.length;
  assert.equal(reads.filter((k) => k === META_KEY).length, 1, "ten requests, one read");
  now += 500;
  await sb.inject({ url: "/v1/nodes" });
  assert.equal(reads.length, firstReads, "within the second: no read");

  // One node changed: the next read fetches the meta and that node's piece only.
  set = bigSet("one");
  set.nodes[120]!.roles = ["changed"];
  pub.changed();
  await pub.settled();
  now += 600;
  const after1 = await sb.inject({ url: "/v1/nodes/agent-120" });
  assert.deepEqual(after1.json().roles, ["changed"]);
  assert.deepEqual(reads.slice(firstReads), [META_KEY, "views/nodes/2"]);

  // The leader publishes between a reader's meta and its pieces: the reader reads again and
  // answers one whole publish, never the old meta's pieces mixed with newer ones.
  const stale = await base.get<ViewMeta>(META_KEY);
  set = bigSet("two");
  pub.changed();
  await pub.settled();
  await pub.stop();
  const racing = counting(base, (n) => (n === 1 ? stale : undefined));
  const fresh = new StoredViews(racing.store);
  const got = (await fresh.current())!.set;
  assert.ok(
    got.nodes.every((n) => n.roles[0] === "two"),
    "every node from the newer publish",
  );
  assert.equal((got.summary as unknown as { platform: string }).platform, "two");
  assert.equal(racing.reads.filter((k) => k === META_KEY).length, 2);
});

test("a store that cannot be read: the copy read before, with its age; without one, a 503 that keeps the store's words in the log", async () => {
  const base = await openStore();
  let broken = false;
  const store = Object.assign(Object.create(base) as StateStore, {
    get: async (key: string) => {
      if (broken) throw new StoreError("UNAVAILABLE", "no answer from zk1.internal:2181 for /x");
      return base.get(key);
    },
  });
  let now = 5_000_000;
  const faults: string[] = [];
  const serve = () =>
    buildStandbyServer({
      version: "1.2.3",
      election: { view: () => leading },
      views: new StoredViews(store, { now: () => now, onReadError: (e) => faults.push(e.message) }),
      now: () => now,
    });
  const pub = new ViewPublisher(base, {
    collect: () => bigSet("one"),
    leader: () => null,
    redact: (t) => t,
    now: () => now,
  });
  pub.start();
  await pub.settled();
  await pub.stop();

  const sb = serve();
  cleanups.push(() => sb.close());
  assert.equal((await sb.inject({ url: "/v1/nodes/agent-1" })).statusCode, 200);
  broken = true;
  now += 3_000;
  const old = await sb.inject({ url: "/v1/nodes/agent-1" });
  assert.equal(old.statusCode, 200, "the copy read before");
  assert.equal(old.headers["x-view-age-ms"], "3000");

  const fresh = serve();
  cleanups.push(() => fresh.close());
  const none = await fresh.inject({ url: "/v1/plans" });
  assert.equal(none.statusCode, 503);
  assert.equal(none.json().code, NOT_LEADER);
  assert.equal(none.json().leader, LEADER_API);
  assert.match(none.json().error, /cannot be read from the store \(UNAVAILABLE\)/);
  assert.ok(!none.body.includes("zk1.internal"));
  // Within the second: the same answer, from the same failed read (one log line).
  const again = await fresh.inject({ url: "/v1/nodes" });
  assert.match(again.json().error, /cannot be read from the store \(UNAVAILABLE\)/);
  assert.equal(faults.length, 2, "one line per failed read");
  assert.match(faults[1]!, /zk1\.internal/);
});
