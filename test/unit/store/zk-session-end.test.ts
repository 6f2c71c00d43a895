// ZooKeeper away: a leader's write waiting for its session learns at once when that session
// ends (its writes are fenced from then on; waiting out the operation's deadline only held up
// its stop, and with it its exit), and the store's health probe answers at once while there
// is no connection (/health must not hang for an operation's deadline).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitForEvent } from "../../support/wait.js";

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("a leader's write waiting for ZooKeeper fails FENCED when its session ends, not at its deadline", async () => {
  const zk = await ZooKeeperServer.start();
  cleanups.push(() => zk.destroy());
  const opTimeoutMs = 30_000;
  const s = await ZkStateStore.open(zk.zkUrl("/session-end/f"), {
    sessionTimeoutMs: 2000,
    opTimeoutMs,
    spinDelayMs: 100,
  });
  cleanups.push(() => s.close());
  // As a leader's: writes fenced by a znode (here the root), moved when the session ends, as
  // the elector does (src/ha/elector.ts).
  s.setFence(s.root);
  s.connection.on("expired", () => s.setFence(`${s.root}/standby-never-exists`));
  await s.set("k", 1);

  await zk.stop();
  if (s.connection.isConnected)
    await waitForEvent(s.connection, "disconnected", { timeoutMs: 20_000 });
  // Cut off: the probe says so at once.
  const probed = Date.now();
  await assert.rejects(s.checkWritable(), (e: unknown) => {
    return e instanceof StoreError && e.code === "UNAVAILABLE" && /not connected/.test(e.message);
  });
  assert.ok(Date.now() - probed < 1000, `the probe took ${Date.now() - probed} ms`);

  const began = Date.now();
  const write = s.set("k", 2);
  await assert.rejects(write, (e: unknown) => e instanceof StoreError && e.code === "FENCED");
  const took = Date.now() - began;
  // The session's end (about its 2 s timeout), far from the 30 s deadline.
  assert.ok(took < 10_000, `failed after ${took} ms`);

  await zk.start();
  s.setFence(s.root);
  assert.equal(await s.get("k"), 1, "the write never landed");
  await s.checkWritable(); // connected again (the read waited for the new session)
});
