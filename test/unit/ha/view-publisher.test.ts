// The leader's copy of its read views for the standbys: what is stored (pieces, no secret),
// how often (at most once per interval, only what changed, a heartbeat of the meta when
// nothing did), what a new leader does with an older copy, and a deposed leader's silence.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError, type StateStore, type WriteOp } from "../../../src/store/store.js";
import { ViewPublisher } from "../../../src/ha/view-publisher.js";
import { StoredViews } from "../../../src/ha/view-reader.js";
import { META_KEY, type ViewMeta, type ViewSet } from "../../../src/ha/views.js";
import type { NodeView } from "../../../src/framework/operator-view.js";
import type { PlanView, StepView } from "../../../src/framework/plan/types.js";
import { waitUntil } from "../../support/wait.js";

const SECRET = "Adm1n-Secret-pw";
const redact = (t: string) => t.split(SECRET).join("[redacted]");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openStore(): Promise<FileStateStore> {
  const dir = mkdtempSync(join(tmpdir(), "views-"));
  dirs.push(dir);
  return FileStateStore.open(dir);
}

/** Records each commit: when, and the keys it set or deleted. */
function recording(store: StateStore) {
  const commits: { at: number; ops: string[] }[] = [];
  let fail: StoreError | undefined;
  const wrapped = Object.assign(Object.create(store) as StateStore, {
    commit: async (ops: readonly WriteOp[]) => {
      commits.push({ at: Date.now(), ops: ops.map((o) => `${o.op} ${o.key}`) });
      if (fail) throw fail;
      return store.commit(ops);
    },
  });
  return { store: wrapped, commits, failWith: (e: StoreError | undefined) => (fail = e) };
}

const step = (id: string, status: StepView["status"] = "PENDING"): StepView =>
  ({ id, name: `step ${id}`, status, attempts: 0, updatedAt: 1 }) as StepView;

function node(i: number): NodeView {
  return {
    agentId: `agent-${i}`,
    hostname: `host-${i}`,
    ip: `127.0.0.${i % 250}`,
    attributes: {},
    lost: false,
    lastSeen: 1,
    roles: ["sds"],
    devices: [{ path: "/dev/sdb" }],
    steps: [],
  };
}

function plan(id: string, steps: number): PlanView {
  const all = Array.from({ length: steps }, (_, i) => step(`install/agent-${i}`));
  return {
    id,
    name: id,
    strategy: "serial",
    status: "PENDING",
    paused: false,
    progress: { complete: 0, total: steps },
    phases: [
      {
        id: "a",
        name: "a",
        strategy: "parallel",
        dependsOn: [],
        status: "PENDING",
        paused: false,
        steps: all.slice(0, 100),
      },
      {
        id: "b",
        name: "b",
        strategy: "parallel",
        dependsOn: ["a"],
        status: "PENDING",
        paused: false,
        steps: all.slice(100),
      },
      {
        id: "c",
        name: "c",
        strategy: "serial",
        dependsOn: [],
        status: "PENDING",
        paused: false,
        steps: [],
      },
    ],
  } as PlanView;
}

function viewSet(nodes = 120, steps = 600): ViewSet {
  return {
    summary: { platform: "test", plans: [] } as unknown as ViewSet["summary"],
    health: { status: "healthy", conditions: [] },
    pools: [],
    plans: [plan("deploy", steps), plan("other", 3)],
    nodes: Array.from({ length: nodes }, (_, i) => node(i)),
  };
}

const leader = () => ({ id: "cand-1", api: "http://127.0.0.1:8080" });

test("the views are stored in pieces, without secrets, and read back whole", async () => {
  const store = await openStore();
  const set = viewSet();
  set.plans[0]!.phases[1]!.steps[7]!.message = `logged in with ${SECRET}`;
  set.nodes[3]!.lastError = `password ${SECRET} refused`;
  const pub = new ViewPublisher(store, { collect: () => set, leader, redact, heartbeatMs: 60_000 });
  pub.start();
  await waitUntil(() => pub.publishes === 1, { what: "the first publish" });
  await pub.stop();

  const keys = await store.list("views");
  // 120 nodes in pieces of 50, 600 steps in pieces of 250: none holds a plan or the node list.
  for (const k of ["views/nodes/0", "views/nodes/2", "views/plans/0/steps/2", "views/plans/1/head"])
    assert.ok(keys.includes(k), `${k} in ${keys.join(", ")}`);
  assert.ok(!keys.includes("views/nodes/3"));
  for (const k of keys) {
    const text = JSON.stringify(await store.get(k));
    assert.ok(!text.includes(SECRET), `${k} holds the secret`);
  }
  const meta = (await store.get<ViewMeta>(META_KEY))!;
  assert.deepEqual(meta.leader, leader());

  const copy = await new StoredViews(store).current();
  const expected = JSON.parse(redact(JSON.stringify(set))) as ViewSet;
  assert.deepEqual(copy?.set, expected);
  assert.match(copy!.set.nodes[3]!.lastError!, /password \[redacted\] refused/);
  assert.equal(copy!.set.plans[0]!.phases[2]!.steps.length, 0, "an empty phase stays");
  await store.close();
});

test("publishes are throttled and write only what changed; unchanged, only a heartbeat of the meta", async () => {
  const base = await openStore();
  const { store, commits } = recording(base);
  const set = viewSet();
  const pub = new ViewPublisher(store, {
    collect: () => set,
    leader,
    redact,
    minIntervalMs: 300,
    heartbeatMs: 60_000,
  });
  pub.start();
  await waitUntil(() => commits.length === 1, { what: "the first publish" });
  await pub.settled();

  // A burst of changes: at most one publish per interval, the last state stored.
  for (let i = 0; i < 20; i++) {
    set.nodes[60]!.lastSeen = 100 + i;
    pub.changed();
  }
  await waitUntil(() => commits.length === 2, { what: "the burst's publish" });
  set.nodes[61]!.lastSeen = 500;
  pub.changed();
  await waitUntil(() => commits.length === 3, { what: "the next publish" });
  await pub.settled();
  assert.equal(commits.length, 3, "the burst shared one publish");
  assert.ok(
    commits[2]!.at - commits[1]!.at >= 250,
    `publishes ${commits[2]!.at - commits[1]!.at} ms apart`,
  );
  // Only the piece of the changed node, and the meta.
  assert.deepEqual(commits[1]!.ops, ["set views/nodes/1", `set ${META_KEY}`]);
  assert.equal((await new StoredViews(base).current())!.set.nodes[61]!.lastSeen, 500);

  // Nothing changed: nothing written.
  pub.changed();
  await pub.settled();
  assert.equal(commits.length, 3);
  await pub.stop();

  // With a short heartbeat, an unchanged copy gets a newer checkedAt, and nothing else.
  const before = (await base.get<ViewMeta>(META_KEY))!;
  const beat = new ViewPublisher(store, { collect: () => set, leader, redact, heartbeatMs: 200 });
  beat.start();
  await waitUntil(() => commits.length === 5, { what: "a heartbeat" });
  await beat.stop();
  assert.deepEqual(commits[4]!.ops, [`set ${META_KEY}`]);
  const meta = (await base.get<ViewMeta>(META_KEY))!;
  assert.ok(meta.checkedAt > before.checkedAt);
  assert.equal(meta.changedAt, before.changedAt, "the views did not change");
  await base.close();
});

test("a new leader rewrites only what differs from the stored copy and removes what is gone", async () => {
  const base = await openStore();
  const { store, commits } = recording(base);
  const first = viewSet(120, 600);
  const a = new ViewPublisher(store, { collect: () => first, leader, redact });
  a.start();
  await waitUntil(() => commits.length === 1, { what: "the first leader's publish" });
  await a.stop();

  const second = viewSet(120, 600);
  second.plans.pop(); // plan "other" is gone
  second.nodes[0]!.roles = ["sds", "sdc"];
  const b = new ViewPublisher(store, { collect: () => second, leader, redact });
  b.start();
  await waitUntil(() => commits.length === 2, { what: "the second leader's publish" });
  await b.stop();
  assert.deepEqual(commits[1]!.ops.sort(), [
    "delete views/plans/1/head",
    "delete views/plans/1/steps/0",
    "set views/meta",
    "set views/nodes/0",
  ]);
  assert.ok(!(await base.list("views")).some((k) => k.startsWith("views/plans/1")));
  assert.deepEqual(
    (await new StoredViews(base).current())!.set,
    JSON.parse(JSON.stringify(second)),
  );
  await base.close();
});

test("a deposed leader (fenced writes) stops publishing and says so once; other failures are retried", async () => {
  const base = await openStore();
  const { store, commits, failWith } = recording(base);
  const set = viewSet(3, 3);
  const warnings: string[] = [];
  const pub = new ViewPublisher(store, {
    collect: () => set,
    leader,
    redact,
    minIntervalMs: 0,
    warn: (m) => warnings.push(m),
  });
  failWith(new StoreError("IO", "disk full"));
  pub.start();
  await waitUntil(() => commits.length === 1, { what: "a publish" });
  await pub.settled();
  assert.match(warnings[0] ?? "", /views for standbys not published: disk full/);
  failWith(undefined);
  pub.changed();
  await waitUntil(() => commits.length === 2, { what: "the retry" });
  await pub.settled();
  assert.ok((await new StoredViews(base).current())?.set, "stored after the retry");

  failWith(new StoreError("FENCED", "election znode gone"));
  set.nodes[0]!.lastSeen = 9;
  pub.changed();
  await waitUntil(() => commits.length === 3, { what: "the fenced publish" });
  await pub.settled();
  set.nodes[0]!.lastSeen = 10;
  pub.changed();
  await pub.settled();
  assert.equal(commits.length, 3, "no write after being fenced");
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /no longer the leader/);
  await pub.stop();
  await base.close();
});

test("past an uninstall's teardown (inactive) nothing is written, not even the heartbeat", async () => {
  const base = await openStore();
  const { store, commits } = recording(base);
  const set = viewSet(3, 3);
  let active = true;
  const pub = new ViewPublisher(store, {
    collect: () => set,
    leader,
    redact,
    minIntervalMs: 0,
    heartbeatMs: 100,
    active: () => active,
  });
  pub.start();
  await waitUntil(() => commits.length >= 1, { what: "a publish" });
  await pub.settled();
  // A heartbeat may have followed the first publish on a slow machine: count from here.
  const before = commits.length;
  active = false;
  for (const k of await base.list("")) await base.delete(k); // the uninstall deletes the state
  set.nodes[0]!.lastSeen = 9;
  pub.changed();
  await pub.settled();
  // Several heartbeats' time, waited for as heartbeats the publisher turned down.
  const seen = { runs: 0 };
  const collect = () => {
    seen.runs++;
    return set;
  };
  const idle = new ViewPublisher(store, {
    collect,
    leader,
    redact,
    minIntervalMs: 0,
    heartbeatMs: 50,
    active: () => active,
  });
  idle.start();
  const origChanged = idle.changed.bind(idle);
  let calls = 0;
  idle.changed = () => {
    calls++;
    origChanged();
  };
  await waitUntil(() => calls >= 3, { what: "three heartbeats" });
  await idle.stop();
  await pub.stop();
  assert.equal(commits.length, before, "nothing written once inactive");
  assert.equal(seen.runs, 0, "not even collected");
  assert.deepEqual(await base.list(""), []);
  await base.close();
});
