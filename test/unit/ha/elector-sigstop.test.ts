// A real leader process paused with SIGSTOP past its session timeout, then continued: a
// standby leads meanwhile, and the old leader writes nothing after it (the key's znode
// version shows it) and stands by.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { EventEmitter } from "node:events";
import { LeaderElector } from "../../../src/ha/elector.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitForEvent, waitUntil } from "../../support/wait.js";

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const src = (p: string) => JSON.stringify(new URL(`../../../src/${p}`, import.meta.url).href);

test("SIGSTOP the leader past its session timeout, SIGCONT: it writes nothing and stands by", async () => {
  const zk = await ZooKeeperServer.start();
  cleanups.push(() => zk.destroy());
  const url = zk.zkUrl("/sigstop/f");
  // The leader: writes the counter as fast as it can while it leads, and says what happens.
  const script = `
    import { ZkStateStore } from ${src("store/zk-store.ts")};
    import { LeaderElector } from ${src("ha/elector.ts")};
    const store = await ZkStateStore.open(${JSON.stringify(url)}, { sessionTimeoutMs: 1000, spinDelayMs: 100 });
    const elector = new LeaderElector(store, { id: "child", api: "http://127.0.0.1:1" });
    elector.on("elected", () => console.log("elected"));
    elector.on("deposed", () => console.log("deposed"));
    elector.on("leader", (l) => console.log("leader " + (l ? l.id : "none")));
    elector.start();
    let n = 0;
    for (;;) {
      if (!elector.isLeader) { await new Promise((r) => setTimeout(r, 20)); continue; }
      try { await store.set("counter", { by: "child", n: ++n }); }
      catch (err) { console.log("refused " + err.code); await new Promise((r) => setTimeout(r, 20)); }
    }
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(async () => {
    child.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((r) => child.once("exit", r));
    }
  });
  const lines = new EventEmitter();
  const seen: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    seen.push(l);
    lines.emit("line", l);
  });
  const line = (want: RegExp, timeoutMs = 30_000) =>
    seen.some((l) => want.test(l))
      ? Promise.resolve()
      : waitForEvent<[string]>(lines, "line", { timeoutMs, filter: (l) => want.test(l) });

  await line(/^elected$/);
  const store = await ZkStateStore.open(url, { spinDelayMs: 100 });
  const standby = new LeaderElector(store, { id: "standby", api: "http://127.0.0.1:2" });
  cleanups.push(async () => {
    await standby.stop();
    await store.close();
  });
  standby.start();
  await waitUntil(async () => (await store.get("counter")) !== undefined, {
    what: "the leader writing",
  });

  child.kill("SIGSTOP");
  const elected = waitForEvent(standby, "elected", { timeoutMs: 20_000 });
  await elected;
  await store.set("counter", { by: "standby" });
  const after = (await store.getVersioned("counter"))!.version;

  const deposedAt = seen.length;
  child.kill("SIGCONT");
  // It learns its session ended, steps down and follows the new leader.
  await line(/^deposed$/);
  await line(/^leader standby$/);
  // Whatever it tried after it continued was refused, and nothing of it landed.
  const refusals = seen.slice(deposedAt).filter((l) => l.startsWith("refused "));
  for (const r of refusals) {
    assert.match(r, /^refused (FENCED|SESSION_EXPIRED|UNAVAILABLE)$/);
  }
  assert.deepEqual(await store.getVersioned("counter"), {
    value: { by: "standby" },
    version: after,
  });
  assert.equal(standby.isLeader, true);
});
