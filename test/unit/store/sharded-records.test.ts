// Sharded records (the node-task runner's launch records and executor fingerprints): durable
// once set resolves, gone once delete resolves, read back by a new process (a new store on the
// same folder), the older one-key-per-record layout taken over, and a burst of sets sharing
// writes instead of one file each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import type { StateStore } from "../../../src/store/store.js";
import { ShardedRecords } from "../../../src/store/sharded-records.js";

interface Rec {
  agentId: string;
  stepId: string;
  kind: string;
  launchedAt: number;
}
const TASK_SHARDS = 16;
const records = (store: StateStore) =>
  new ShardedRecords<Rec>(store, {
    prefix: "task-records",
    shards: TASK_SHARDS,
    legacyPrefix: "tasks",
  });

const rec = (agentId: string): Rec => ({ agentId, stepId: "s", kind: "k", launchedAt: 1 });

async function reopen(dir: string, prev: FileStateStore): Promise<FileStateStore> {
  await prev.close();
  return FileStateStore.open(dir);
}

test("records survive a restart; deleted ones do not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "task-records-"));
  let store = await FileStateStore.open(dir);
  const a = records(store);
  await a.load();
  await a.set("t1", rec("A"));
  await a.set("t2", rec("B"));
  await a.set("t3", rec("C"));
  await a.delete("t2");
  store = await reopen(dir, store);
  const b = records(store);
  await b.load();
  assert.deepEqual(
    b
      .all()
      .map(([id, r]) => `${id}@${r.agentId}`)
      .sort(),
    ["t1@A", "t3@C"],
  );
  await store.close();
});

test("records of the one-key-per-task layout are taken over and their keys removed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "task-records-"));
  let store = await FileStateStore.open(dir);
  await store.set("tasks/old_1.1", rec("A"));
  await store.set("tasks/old_2.1", rec("B"));
  const s = records(store);
  await s.load();
  assert.deepEqual(
    s
      .all()
      .map(([id]) => id)
      .sort(),
    ["old_1.1", "old_2.1"],
  );
  assert.deepEqual(await store.list("tasks"), []);
  store = await reopen(dir, store);
  const again = records(store);
  await again.load();
  assert.deepEqual(
    again
      .all()
      .map(([id]) => id)
      .sort(),
    ["old_1.1", "old_2.1"],
  );
  await store.close();
});

test("a burst of 300 launches costs a few writes per shard, not one each", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "task-records-")));
  let writes = 0;
  const counting = Object.assign(Object.create(store) as StateStore, {
    set: (key: string, value: unknown) => {
      writes++;
      return store.set(key, value);
    },
  });
  const s = records(counting);
  await s.load();
  await Promise.all(Array.from({ length: 300 }, (_, i) => s.set(`task_${i}.1`, rec(`A${i}`))));
  assert.equal(s.all().length, 300);
  // Each shard: the first write, then one shared by everything set while it was in flight.
  assert.ok(writes <= 2 * TASK_SHARDS, `${writes} writes`);
  let stored = 0;
  for (const key of await store.list("task-records"))
    stored += Object.keys((await store.get<Record<string, unknown>>(key)) ?? {}).length;
  assert.equal(stored, 300, "every record is durable once its set resolved");
  await store.close();
});
