// A leader deposed while ZooKeeper is away (its session ended: the elector moved the fence):
// a plain write waiting for ZooKeeper stops waiting and fails FENCED at its next try, instead
// of being sent again until its deadline. The deposed scheduler's stop then ends promptly
// (its writes can never land anyway) and it leaves Mesos sooner.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import zookeeper from "node-zookeeper-client";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { closeZk, connectZk, createNode, mkdirp } from "../../support/zk-client.js";
import { waitForEvent } from "../../support/wait.js";

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("a write waiting for ZooKeeper when its fence moves (deposed) fails FENCED at its next try", async () => {
  const zk = await ZooKeeperServer.start({ maxSessionTimeoutMs: 60_000 });
  cleanups.push(() => zk.destroy());
  const opTimeoutMs = 1500;
  // A session that outlasts the outage: only the fence says this process no longer leads.
  const s = await ZkStateStore.open(zk.zkUrl("/deposed/f"), {
    sessionTimeoutMs: 30_000,
    opTimeoutMs,
    spinDelayMs: 100,
  });
  cleanups.push(() => s.close());
  const raw = await connectZk(zk);
  cleanups.push(() => closeZk(raw));
  await mkdirp(raw, "/deposed/f-election");
  const fence = await createNode(
    raw,
    "/deposed/f-election/c_",
    "",
    zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
  );
  s.setFence(fence);
  await s.set("k", 1);

  await zk.stop();
  if (s.connection.isConnected)
    await waitForEvent(s.connection, "disconnected", { timeoutMs: 20_000 });
  const began = Date.now();
  const write = s.set("k", 2);
  // What the elector does when deposed: a fence that never exists.
  s.setFence("/deposed/f-election/standby-never-exists");
  await assert.rejects(write, (e: unknown) => e instanceof StoreError && e.code === "FENCED");
  const took = Date.now() - began;
  // One try's wait for a connection, not the two a plain write is given before its deadline.
  assert.ok(took < 2 * opTimeoutMs, `failed after ${took} ms`);

  await zk.start();
  s.setFence(fence);
  assert.equal(await s.get("k"), 1, "the write never landed");
});
