// The store metrics: every kind of write is timed (the plan engine writes through atomic
// commits and compare-and-set, not only `set`), and only a failure of the store itself marks
// it failing — a conflict is the answer to a compare-and-set, not a broken store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metrics } from "../../../src/api/metrics.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError } from "../../../src/store/store.js";

async function writeCount(m: Metrics): Promise<number> {
  const line = (await m.text())
    .split("\n")
    .find((l) => /^scaleio_framework_store_write_seconds_count /.test(l));
  assert.ok(line, "the write histogram is exported");
  return Number(line.split(" ")[1]);
}

test("set, delete, compare-and-set and commits are all timed", async () => {
  const m = new Metrics();
  const store = m.timeStore(await FileStateStore.open(mkdtempSync(join(tmpdir(), "ms-"))));
  try {
    await store.set("a", 1);
    const v = await store.setIf("b", 2, "absent");
    await store.deleteIf("b", v);
    await store.commit([
      { op: "set", key: "c", value: 3 },
      { op: "delete", key: "a" },
    ]);
    await store.delete("c");
    assert.equal(await writeCount(m), 5);
    assert.equal(m.storeWritesFailing, false);
  } finally {
    await store.close();
  }
});

test("a conflict is not a failing store; an I/O failure is, until a write succeeds", async () => {
  const m = new Metrics();
  const store = m.timeStore(await FileStateStore.open(mkdtempSync(join(tmpdir(), "ms-"))));
  try {
    await store.set("k", 1);
    await assert.rejects(store.setIf("k", 2, "absent"), { code: "CONFLICT" });
    await assert.rejects(store.commit([{ op: "check", key: "k", expect: "absent" }]), {
      code: "CONFLICT",
    });
    assert.equal(m.storeWritesFailing, false, "conflicts leave the store healthy");

    // The disk fails under the store (wrapped before timing, as a real failure would come).
    const failing = await FileStateStore.open(mkdtempSync(join(tmpdir(), "ms-")));
    const m2 = new Metrics();
    let broken = true;
    const commit = failing.commit.bind(failing);
    failing.commit = async (ops) => {
      if (broken) throw new StoreError("IO", "write failed: ENOSPC");
      return commit(ops);
    };
    const timed = m2.timeStore(failing);
    try {
      await assert.rejects(timed.commit([{ op: "set", key: "x", value: 1 }]), { code: "IO" });
      assert.equal(m2.storeWritesFailing, true, "an I/O failure marks the store failing");
      broken = false;
      await timed.commit([{ op: "set", key: "x", value: 1 }]);
      assert.equal(m2.storeWritesFailing, false, "a write that succeeds clears it");
    } finally {
      await timed.close();
    }
  } finally {
    await store.close();
  }
});
