// The behaviour every state store promises (src/store/store.ts), as one suite run against
// each implementation: the file store and the ZooKeeper store must be interchangeable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StoreError, type StateStore } from "../../src/store/store.js";

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<StateStore>;
  /** Closes `store` and opens the same state again (another process would see this). */
  reopen(store: StateStore): Promise<StateStore>;
}

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

/** A value of about `bytes` bytes of JSON that is not trivially compressible. */
export function bigValue(bytes: number, seed = 1): { seed: number; rows: string[] } {
  const rows: string[] = [];
  let x = seed;
  let size = 0;
  while (size < bytes) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const row = `${x.toString(36)}-${"é".repeat(x % 7)}-${size}`;
    rows.push(row);
    size += row.length + 3;
  }
  return { seed, rows };
}

export function storeContract(name: string, h: StoreHarness): void {
  const withStore = async (fn: (s: StateStore) => Promise<void>) => {
    const s = await h.open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  test(`${name}: set, get, list and delete JSON values under path keys`, () =>
    withStore(async (s) => {
      assert.equal(await s.get("framework/id"), undefined);
      await s.set("framework/id", { value: "f-0001" });
      await s.set("plans/deploy", { phases: [1, 2] });
      await s.set("plans/deploy/steps/00", { a: 1 });
      await s.set("plans/update", null);
      await s.set("n", 0);
      assert.deepEqual(await s.get("framework/id"), { value: "f-0001" });
      assert.equal(await s.get("plans/update"), null);
      assert.equal(await s.get("n"), 0);
      assert.deepEqual(await s.list("plans"), [
        "plans/deploy",
        "plans/deploy/steps/00",
        "plans/update",
      ]);
      assert.deepEqual(await s.list(""), [
        "framework/id",
        "n",
        "plans/deploy",
        "plans/deploy/steps/00",
        "plans/update",
      ]);
      await s.delete("plans/deploy");
      await s.delete("plans/deploy");
      assert.deepEqual(await s.list("plans/"), ["plans/deploy/steps/00", "plans/update"]);
      assert.deepEqual(await s.list("nothing/here"), []);
      await s.checkWritable();
    }));

  test(`${name}: values survive a reopen`, async () => {
    let s = await h.open();
    await s.set("framework/id", { value: "f-1" });
    await s.commit([
      { op: "set", key: "a", value: 1 },
      { op: "set", key: "b/c", value: [2] },
    ]);
    s = await h.reopen(s);
    try {
      assert.deepEqual(await s.get("framework/id"), { value: "f-1" });
      assert.equal(await s.get("a"), 1);
      assert.deepEqual(await s.get("b/c"), [2]);
    } finally {
      await s.close();
    }
  });

  test(`${name}: versions grow with each write and compare-and-set honours them`, () =>
    withStore(async (s) => {
      assert.equal(await s.getVersioned("k"), undefined);
      const v1 = await s.setIf("k", { n: 1 }, "absent");
      assert.deepEqual(await s.getVersioned("k"), { value: { n: 1 }, version: v1 });
      await assert.rejects(s.setIf("k", { n: 9 }, "absent"), isCode("CONFLICT"));
      const v2 = await s.setIf("k", { n: 2 }, v1);
      assert.ok(v2 > v1);
      // A stale version is refused and changes nothing.
      await assert.rejects(s.setIf("k", { n: 3 }, v1), (e: unknown) => {
        assert.ok(isCode("CONFLICT")(e));
        assert.equal((e as StoreError).retryable, false);
        return true;
      });
      assert.deepEqual(await s.getVersioned("k"), { value: { n: 2 }, version: v2 });
      // A plain set moves the version too.
      await s.set("k", { n: 4 });
      const v3 = (await s.getVersioned("k"))!.version;
      assert.ok(v3 > v2);
      await assert.rejects(s.deleteIf("k", v2), isCode("CONFLICT"));
      await s.deleteIf("k", v3);
      assert.equal(await s.get("k"), undefined);
      await assert.rejects(s.setIf("k", 1, v3), isCode("CONFLICT"));
      // Written again, the key never gets back a version it had (no ABA).
      const v4 = await s.setIf("k", { n: 5 }, "absent");
      assert.ok(![v1, v2, v3].includes(v4));
      await assert.rejects(s.setIf("k", 1, v1), isCode("CONFLICT"));
    }));

  test(`${name}: concurrent compare-and-set increments lose no update`, () =>
    withStore(async (s) => {
      await s.set("counter", 0);
      let conflicts = 0;
      const increment = async () => {
        for (;;) {
          const cur = await s.getVersioned<number>("counter");
          try {
            await s.setIf("counter", cur!.value + 1, cur!.version);
            return;
          } catch (err) {
            if (!isCode("CONFLICT")(err)) throw err;
            conflicts += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, increment));
      assert.equal(await s.get("counter"), 12);
      assert.ok(conflicts > 0, "the racing writers did conflict");
    }));

  test(`${name}: a commit applies all its writes or none`, () =>
    withStore(async (s) => {
      const va = await s.setIf("plans/x", { paused: false }, "absent");
      await s.set("plans/x/steps/00", { s1: "PENDING" });
      const out = await s.commit([
        { op: "set", key: "plans/x", value: { paused: true }, expect: va },
        { op: "set", key: "plans/x/steps/00", value: { s1: "COMPLETE" } },
        { op: "set", key: "plans/x/steps/01", value: { s2: "PENDING" }, expect: "absent" },
        { op: "delete", key: "gone" },
      ]);
      assert.deepEqual(Object.keys(out).sort(), [
        "plans/x",
        "plans/x/steps/00",
        "plans/x/steps/01",
      ]);
      assert.deepEqual(await s.getVersioned("plans/x"), {
        value: { paused: true },
        version: out["plans/x"],
      });
      assert.deepEqual(await s.get("plans/x/steps/01"), { s2: "PENDING" });

      // One stale expectation (here a check, which writes nothing) fails the whole commit.
      await s.set("fence", "leader-1");
      const fence = (await s.getVersioned("fence"))!.version;
      await s.set("fence", "leader-2");
      await assert.rejects(
        s.commit([
          { op: "set", key: "plans/x", value: { paused: false } },
          { op: "delete", key: "plans/x/steps/00" },
          { op: "check", key: "fence", expect: fence },
        ]),
        isCode("CONFLICT"),
      );
      assert.deepEqual(await s.get("plans/x"), { paused: true });
      assert.deepEqual(await s.get("plans/x/steps/00"), { s1: "COMPLETE" });
      // With the right version the same commit goes through.
      const now = (await s.getVersioned("fence"))!.version;
      await s.commit([
        { op: "set", key: "plans/x", value: { paused: false } },
        { op: "delete", key: "plans/x/steps/00" },
        { op: "check", key: "fence", expect: now },
      ]);
      assert.deepEqual(await s.get("plans/x"), { paused: false });
      assert.equal(await s.get("plans/x/steps/00"), undefined);
      // A check may demand that a key has no value.
      await assert.rejects(
        s.commit([
          { op: "set", key: "y", value: 1 },
          { op: "check", key: "fence", expect: "absent" },
        ]),
        isCode("CONFLICT"),
      );
      assert.equal(await s.get("y"), undefined);
    }));

  test(`${name}: readers never see a commit half applied`, () =>
    withStore(async (s) => {
      await s.commit([
        { op: "set", key: "pair/a", value: 0 },
        { op: "set", key: "pair/b", value: 0 },
      ]);
      let stop = false;
      const torn: string[] = [];
      const reader = (async () => {
        while (!stop) {
          // a is read first: b read after it can be as new or newer, never older, unless
          // a commit was seen half applied.
          const a = await s.get<number>("pair/a");
          const b = await s.get<number>("pair/b");
          if (a! > b!) torn.push(`a=${a} b=${b}`);
        }
      })();
      for (let i = 1; i <= 20; i++) {
        await s.commit([
          { op: "set", key: "pair/a", value: i },
          { op: "set", key: "pair/b", value: i },
        ]);
      }
      stop = true;
      await reader;
      assert.deepEqual(torn, []);
    }));

  test(`${name}: a value of several megabytes round-trips, and can be replaced and deleted`, () =>
    withStore(async (s) => {
      const big = bigValue(3_000_000);
      await s.set("big", big);
      assert.deepEqual(await s.get("big"), big);
      const v = (await s.getVersioned("big"))!.version;
      const bigger = bigValue(2_500_000, 2);
      await s.commit([
        { op: "set", key: "big", value: bigger, expect: v },
        { op: "set", key: "big2", value: big },
        { op: "set", key: "small", value: 1 },
      ]);
      assert.deepEqual(await s.get("big"), bigger);
      assert.deepEqual(await s.get("big2"), big);
      assert.deepEqual(await s.list(""), ["big", "big2", "small"]);
      await s.delete("big");
      assert.equal(await s.get("big"), undefined);
      assert.deepEqual(await s.list(""), ["big2", "small"]);
    }));

  test(`${name}: bad keys, values and commits are refused with stable codes`, () =>
    withStore(async (s) => {
      for (const bad of ["../x", "/etc/passwd", "a/../../b", "", "a//b", "a b", ".hidden"]) {
        await assert.rejects(s.set(bad, 1), isCode("BAD_KEY"));
        await assert.rejects(s.setIf(bad, 1, "absent"), isCode("BAD_KEY"));
      }
      await assert.rejects(s.set("k", undefined), isCode("BAD_VALUE"));
      await assert.rejects(
        s.commit([
          { op: "set", key: "k", value: 1 },
          { op: "delete", key: "k" },
        ]),
        isCode("BAD_OP"),
      );
      assert.equal(await s.get("k"), undefined);
    }));
}
