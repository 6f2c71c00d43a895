import { test } from "node:test";
import assert from "node:assert/strict";
import { LatestWriter } from "../../../src/store/latest-writer.js";
import type { StateStore } from "../../../src/store/store.js";

/** A store whose writes finish only when the test says so; records what each write saw. */
function gatedStore() {
  const writes: { value: unknown; done: () => void }[] = [];
  let active = 0;
  let maxActive = 0;
  const store = {
    set(_key: string, value: unknown) {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const snapshot = JSON.parse(JSON.stringify(value)) as unknown;
      return new Promise<void>((resolve) =>
        writes.push({
          value: snapshot,
          done: () => {
            active -= 1;
            resolve();
          },
        }),
      );
    },
  } as unknown as StateStore;
  return { store, writes, maxActive: () => maxActive };
}

const tick = () => new Promise((r) => setImmediate(r));

test("a burst of changes shares one write, and each save resolves after a write that saw it", async () => {
  const { store, writes, maxActive } = gatedStore();
  const state = { n: 0 };
  const w = new LatestWriter(store, "k", () => state);

  state.n = 1;
  const first = w.save();
  await tick();
  assert.equal(writes.length, 1, "the first change is written at once");

  // Three changes while the first write is in flight: one more write, not three.
  const resolved: number[] = [];
  const later = [2, 3, 4].map((n) => {
    state.n = n;
    return w.save().then(() => resolved.push(n));
  });
  await tick();
  assert.equal(writes.length, 1, "no second write while the first is in flight");

  writes[0]!.done();
  await first;
  await tick();
  assert.equal(writes.length, 2);
  assert.deepEqual(writes[1]!.value, { n: 4 }, "the shared write carries the latest state");
  assert.deepEqual(resolved, [], "not durable until the write that saw them ends");

  writes[1]!.done();
  await Promise.all(later);
  assert.deepEqual(resolved, [2, 3, 4]);
  assert.equal(maxActive(), 1, "writes of one key never overlap");
});

test("a failed write fails its callers; the next save writes again", async () => {
  let fail = true;
  const seen: unknown[] = [];
  const store = {
    set(_key: string, value: unknown) {
      seen.push(JSON.parse(JSON.stringify(value)));
      return fail ? Promise.reject(new Error("disk full")) : Promise.resolve();
    },
  } as unknown as StateStore;
  const state = { v: "a" };
  const w = new LatestWriter(store, "k", () => state);
  await assert.rejects(w.save(), /disk full/);
  fail = false;
  state.v = "b";
  await w.save();
  await w.settled();
  assert.deepEqual(seen, [{ v: "a" }, { v: "b" }]);
});
