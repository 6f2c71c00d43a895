// A plan's stored progress: steps spread over shards (a step's change rewrites only its
// shard), read back whole, the older one-value layout taken over, and removal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError, type StateStore, type WriteOp } from "../../../src/store/store.js";
import {
  PlanProgressStore,
  STEP_SHARDS,
  shardOf,
} from "../../../src/framework/plan/progress-store.js";
import { stepTable, type PlanProgress } from "../../../src/framework/plan/types.js";

/** Records which keys were written (one by one, or in a commit). */
function recording(store: StateStore): { store: StateStore; written: string[] } {
  const written: string[] = [];
  return {
    written,
    store: Object.assign(Object.create(store) as StateStore, {
      set: (key: string, value: unknown) => {
        written.push(key);
        return store.set(key, value);
      },
      commit: (ops: readonly WriteOp[]) => {
        written.push(...ops.map((o) => o.key));
        return store.commit(ops);
      },
    }),
  };
}

/**
 * A store that dies after `budget` more keys are written: a single write past it fails, and
 * so does a commit that would pass it (a commit is all or nothing, as the stores promise).
 */
function dying(store: StateStore): { store: StateStore; budget: { keys: number } } {
  const budget = { keys: Number.POSITIVE_INFINITY };
  const spend = (n: number) => {
    if (budget.keys < n) {
      budget.keys = 0;
      throw new StoreError("IO", "the machine died");
    }
    budget.keys -= n;
  };
  return {
    budget,
    store: Object.assign(Object.create(store) as StateStore, {
      set: async (key: string, value: unknown) => {
        spend(1);
        return store.set(key, value);
      },
      delete: async (key: string) => {
        spend(1);
        return store.delete(key);
      },
      commit: async (ops: readonly WriteOp[]) => {
        spend(ops.length);
        return store.commit(ops);
      },
    }),
  };
}

const progress = (n: number): PlanProgress => ({
  id: "deploy",
  paused: false,
  pausedPhases: [],
  steps: stepTable(
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `s/${i}`,
        { status: "PENDING", attempts: 0, updatedAt: i },
      ]),
    ),
  ),
});

test("a step's change rewrites only its shard; the whole plan reads back", async () => {
  const base = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const { store, written } = recording(base);
  const live = progress(200);
  const ps = new PlanProgressStore(store, live);
  await ps.saveAll();
  assert.equal(written.length, STEP_SHARDS + 1, "every shard and the header, once");

  written.length = 0;
  Object.assign(live.steps["s/7"]!, { status: "COMPLETE", attempts: 1 });
  await ps.saveSteps("s/7");
  assert.deepEqual(written, [`plans/deploy/steps/${String(shardOf("s/7")).padStart(2, "0")}`]);

  written.length = 0;
  await ps.saveAll();
  assert.deepEqual(written, ["plans/deploy"], "no step came or went: only the header");

  const back = await PlanProgressStore.load(base, "deploy");
  assert.deepEqual(back, live);
  // A shard holds about its share, not the plan.
  const one = await base.get<Record<string, unknown>>("plans/deploy/steps/00");
  assert.ok(Object.keys(one ?? {}).length < 40, `${Object.keys(one ?? {}).length} steps`);
  await base.close();
});

test("steps that left the plan leave the store; the one-value layout is taken over", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const old = progress(10);
  old.steps["s/3"]!.status = "COMPLETE";
  old.pausedPhases = ["sdc"];
  await store.set("plans/deploy", old); // as written before steps had shards
  const loaded = (await PlanProgressStore.load(store, "deploy"))!;
  assert.deepEqual(loaded, old);

  delete loaded.steps["s/4"];
  const ps = new PlanProgressStore(store, loaded);
  await ps.saveAll();
  const header = await store.get<Record<string, unknown>>("plans/deploy");
  assert.deepEqual(header, { id: "deploy", paused: false, pausedPhases: ["sdc"] });
  const again = (await PlanProgressStore.load(store, "deploy"))!;
  assert.equal(again.steps["s/3"]?.status, "COMPLETE");
  assert.equal(again.steps["s/4"], undefined);
  assert.equal(Object.keys(again.steps).length, 9);

  await ps.remove();
  assert.equal(await PlanProgressStore.load(store, "deploy"), undefined);
  assert.deepEqual(await store.list("plans"), []);
  await store.close();
});

test("a step named like a prototype property is stored and read back as a plain step", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const live = progress(3);
  for (const id of ["__proto__", "constructor", "toString"])
    live.steps[id] = { status: "COMPLETE", attempts: 1, updatedAt: 1 };
  await new PlanProgressStore(store, live).saveAll();
  const back = (await PlanProgressStore.load(store, "deploy"))!;
  assert.deepEqual(Object.keys(back.steps).sort(), [
    "__proto__",
    "constructor",
    "s/0",
    "s/1",
    "s/2",
    "toString",
  ]);
  assert.equal(back.steps["__proto__"]?.status, "COMPLETE");
  assert.equal(Object.getPrototypeOf(back.steps), null);
  assert.equal(({} as Record<string, unknown>).status, undefined, "Object.prototype untouched");
  await store.close();
});

test("a step's fingerprint is stored with its shard and read back; old values have none", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const live = progress(5);
  const ps = new PlanProgressStore(store, live);
  await ps.saveAll();
  Object.assign(live.steps["s/2"]!, { status: "COMPLETE", attempts: 1, fingerprint: "f00d" });
  await ps.saveSteps("s/2");
  const back = (await PlanProgressStore.load(store, "deploy"))!;
  assert.equal(back.steps["s/2"]?.fingerprint, "f00d");
  assert.equal(back.steps["s/1"]?.fingerprint, undefined);
  assert.equal(Object.hasOwn(back.steps["s/1"]!, "fingerprint"), false);
  await store.close();
});

test("steps coming and going are one commit: a write that dies half way leaves the previous progress whole", async () => {
  const base = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const { store, budget } = dying(base);
  const live = progress(100);
  const ps = new PlanProgressStore(store, live);
  await ps.saveAll();
  const before = await PlanProgressStore.load(base, "deploy");
  assert.deepEqual(before, live);

  // Steps go and come (most shards change) and the plan is paused; the machine dies after
  // a few keys.
  for (let i = 0; i < 50; i++) delete live.steps[`s/${i}`];
  for (let i = 100; i < 160; i++)
    live.steps[`s/${i}`] = { status: "PENDING", attempts: 0, updatedAt: i };
  live.paused = true;
  budget.keys = 5;
  await assert.rejects(ps.saveAll(), /the machine died/);
  assert.deepEqual(await PlanProgressStore.load(base, "deploy"), before, "nothing of it written");

  // Back up: a step's own save meanwhile writes its shard whole (the steps it had, and it).
  budget.keys = Number.POSITIVE_INFINITY;
  Object.assign(live.steps["s/120"]!, { status: "COMPLETE", attempts: 1 });
  await ps.saveSteps("s/120");
  const mid = (await PlanProgressStore.load(base, "deploy"))!;
  assert.equal(mid.steps["s/120"]?.status, "COMPLETE");
  const neighbours = Object.entries(before!.steps).filter(
    ([id]) => shardOf(id) === shardOf("s/120") && live.steps[id],
  );
  assert.ok(neighbours.length > 0);
  for (const [id, p] of neighbours) assert.deepEqual(mid.steps[id], p, `${id}, in its shard, kept`);
  // The next saveAll writes every shard whose commit failed, not only those changed since.
  await ps.saveAll();
  assert.deepEqual(await PlanProgressStore.load(base, "deploy"), live);
  await base.close();
});

test("removal is one commit: a removed plan leaves no key, a removal that dies leaves the plan whole", async () => {
  const base = await FileStateStore.open(mkdtempSync(join(tmpdir(), "progress-")));
  const { store, budget } = dying(base);
  const live = progress(100);
  await new PlanProgressStore(store, live).saveAll();
  const other = { ...progress(3), id: "other" };
  await new PlanProgressStore(store, other).saveAll();

  budget.keys = 3;
  await assert.rejects(new PlanProgressStore(store, live).remove(), /the machine died/);
  assert.deepEqual(await PlanProgressStore.load(base, "deploy"), live, "still whole");

  budget.keys = Number.POSITIVE_INFINITY;
  const ps = new PlanProgressStore(store, live);
  await ps.remove();
  assert.equal(await PlanProgressStore.load(base, "deploy"), undefined);
  assert.deepEqual(
    (await base.list("plans")).filter((k) => k === "plans/deploy" || k.startsWith("plans/deploy/")),
    [],
    "no key of the removed plan",
  );
  assert.deepEqual(await PlanProgressStore.load(base, "other"), other, "another plan untouched");
  // A step ending after the removal writes nothing back.
  await ps.saveSteps("s/1");
  await ps.saveAll();
  assert.equal(await PlanProgressStore.load(base, "deploy"), undefined);
  await base.close();
});
