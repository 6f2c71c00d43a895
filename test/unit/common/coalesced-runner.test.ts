// One run at a time; triggers made while a run waits to start share it; a failed run does
// not stop the next one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CoalescedRunner } from "../../../src/common/coalesced-runner.js";

test("a burst of triggers costs one run after the current one; runs never overlap", async () => {
  let running = 0;
  let overlap = false;
  let runs = 0;
  let release!: () => void;
  const r = new CoalescedRunner(async () => {
    runs += 1;
    running += 1;
    if (running > 1) overlap = true;
    if (runs === 1) await new Promise<void>((res) => (release = res));
    running -= 1;
  });
  const first = r.run();
  await new Promise((res) => setImmediate(res)); // the first run has begun
  const burst = Array.from({ length: 1000 }, () => r.run());
  assert.equal(new Set(burst).size, 1, "the burst shares one queued run");
  release();
  await Promise.all([first, ...burst]);
  assert.equal(runs, 2);
  assert.equal(overlap, false);
});

test("a run that fails rejects its callers; the next run still happens", async () => {
  let n = 0;
  const r = new CoalescedRunner(async () => {
    n += 1;
    if (n === 1) throw new Error("boom");
  });
  await assert.rejects(r.run(), /boom/);
  await r.run();
  assert.equal(n, 2);
  await r.settled();
});

test("with a gap, the next run starts no sooner than the gap after the previous one ended", async () => {
  const starts: number[] = [];
  const ends: number[] = [];
  const r = new CoalescedRunner(
    async () => {
      starts.push(Date.now());
      ends.push(Date.now());
    },
    () => 60,
  );
  await r.run();
  await Promise.all([r.run(), r.run(), r.run()]);
  assert.equal(starts.length, 2, "the three calls shared one run");
  assert.ok(starts[1]! - ends[0]! >= 55, `${starts[1]! - ends[0]!} ms apart`);
});
