// A plan's stored progress: steps spread over shards (a step's change rewrites only its
// shard), read back whole, the older one-value layout taken over, and removal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import type { StateStore } from "../../../src/store/store.js";
import {
  PlanProgressStore,
  STEP_SHARDS,
  shardOf,
} from "../../../src/framework/plan/progress-store.js";
import { stepTable, type PlanProgress } from "../../../src/framework/plan/types.js";

/** Records which keys were written. */
function recording(store: StateStore): { store: StateStore; written: string[] } {
  const written: string[] = [];
  return {
    written,
    store: Object.assign(Object.create(store) as StateStore, {
      set: (key: string, value: unknown) => {
        written.push(key);
        return store.set(key, value);
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
