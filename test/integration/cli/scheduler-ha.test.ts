// Two real scheduler processes sharing a ZooKeeper state store: one leads and subscribes to
// Mesos, the other stands by (no subscription; changes answered 503 with the leader's URL).
// The leader killed (SIGKILL), the standby leads and subscribes as the same framework within
// the ZooKeeper session timeout + 2 s.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitUntil, withDeadline } from "../../support/wait.js";
import {
  killAll,
  REQUEST_MS,
  requestJson as getJson,
  startSchedulerProcess,
  startZkScheduler,
  sigterm,
  statusOf,
  subscribedIds,
} from "../../support/cli-process.js";

const SESSION_MS = 4000;
let cluster: DevCluster | undefined;
let zk: ZooKeeperServer | undefined;
after(async () => {
  killAll();
  await cluster?.stop();
  await zk?.destroy();
});

const startScheduler = (master: string, state: string) =>
  startZkScheduler(master, state, SESSION_MS);

test(
  "two schedulers on one ZooKeeper state: one leads, one stands by; the leader killed, the standby takes over as the same framework",
  { timeout: 180_000 },
  async () => {
    zk = await ZooKeeperServer.start();
    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const state = zk.zkUrl("/scaleio-framework-ha");

    const a = await startScheduler(cluster.masterUrl, state);
    await waitUntil(async () => (await statusOf(`${a.api}/health`)) === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the first scheduler leads and is subscribed (stderr: ${a.err().slice(-2000)})`,
    });
    const b = await startScheduler(cluster.masterUrl, state);

    // Both say who leads; the health of each says its role.
    const la = await getJson(`${a.api}/v1/leader`);
    assert.equal(la.status, 200);
    assert.equal(la.body.leader, true);
    assert.equal(la.body.api, a.api);
    assert.equal(la.body.pid, a.child.pid);
    assert.ok(typeof la.body.id === "string" && typeof la.body.since === "string");
    await waitUntil(async () => (await getJson(`${b.api}/v1/leader`)).body.api === a.api, {
      timeoutMs: 15_000,
      what: "the standby knows the leader",
    });
    const lb = await getJson(`${b.api}/v1/leader`);
    assert.deepEqual(lb.body, { ...la.body, leader: false });
    assert.equal((await getJson(`${a.api}/health`)).body.role, "leader");
    const hb = await getJson(`${b.api}/health`);
    assert.equal(hb.status, 200);
    assert.equal(hb.body.role, "standby");

    // A change sent to the standby: 503 with the leader's URL; it never subscribed.
    const post = await fetch(`${b.api}/v1/plans/deploy/pause`, {
      method: "POST",
      signal: AbortSignal.timeout(REQUEST_MS),
    });
    assert.equal(post.status, 503);
    const refusal = (await post.json()) as Record<string, unknown>;
    assert.equal(refusal.code, "NOT_LEADER");
    assert.equal(refusal.leader, a.api);
    assert.match(String(refusal.error), new RegExp(a.api.replace(/[.]/g, "\\.")));
    const frameworkId = subscribedIds(a)[0];
    assert.ok(frameworkId, "the leader logged its subscription");
    assert.deepEqual(subscribedIds(b), [], "the standby did not subscribe");

    // The leader dies: the standby leads and subscribes as the same framework, in time.
    // Its port answers throughout: the standby's API hands its socket to the full one.
    const roles: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const h = await getJson(`${b.api}/health`);
          if (roles.at(-1) !== h.body.role) roles.push(String(h.body.role));
        } catch (err) {
          roles.push(`no answer: ${(err as Error).cause ?? (err as Error).message}`);
        }
      }
    })();
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await withDeadline(a.exited, 10_000, "the leader's exit");
    await waitUntil(() => subscribedIds(b).length > 0, {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `the standby subscribes (stderr: ${b.err().slice(-2000)})`,
    });
    const took = Date.now() - killedAt;
    polling = false;
    await poller;
    assert.deepEqual(
      roles,
      ["standby", "leader"],
      "every /health poll answered through the takeover",
    );
    assert.deepEqual(subscribedIds(b), [frameworkId], "the same framework id");
    assert.ok(took <= SESSION_MS + 2000, `failover took ${took} ms (limit ${SESSION_MS + 2000})`);
    const lb2 = await getJson(`${b.api}/v1/leader`);
    assert.equal(lb2.body.leader, true);
    assert.equal(lb2.body.api, b.api);
    assert.equal(lb2.body.pid, b.child.pid);
    const hb2 = await getJson(`${b.api}/health`);
    assert.equal(hb2.body.role, "leader");

    assert.equal(await sigterm(b, "the new leader's exit"), 0);
  },
);

test(
  "a leader paused past its session timeout and continued stops and exits 6 (deposed); the new leader carries on",
  { timeout: 180_000 },
  async () => {
    zk ??= await ZooKeeperServer.start();
    cluster ??= await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const state = zk.zkUrl("/scaleio-framework-deposed");
    const a = await startScheduler(cluster.masterUrl, state);
    await waitUntil(async () => (await statusOf(`${a.api}/health`)) === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the first scheduler leads and is subscribed (stderr: ${a.err().slice(-2000)})`,
    });
    const b = await startScheduler(cluster.masterUrl, state);
    await waitUntil(async () => (await getJson(`${b.api}/v1/leader`)).body.api === a.api, {
      timeoutMs: 15_000,
      what: "the standby knows the leader",
    });
    const frameworkId = subscribedIds(a)[0];

    a.child.kill("SIGSTOP");
    try {
      await waitUntil(() => subscribedIds(b).length > 0, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: `the standby takes over (stderr: ${b.err().slice(-2000)})`,
      });
    } finally {
      a.child.kill("SIGCONT");
    }
    assert.deepEqual(subscribedIds(b), [frameworkId]);
    assert.equal(await withDeadline(a.exited, 20_000, "the deposed leader's exit"), 6);
    assert.match(a.err(), /scaleio-framework: no longer the leader \(.+\): stopping/);
    // The old leader never took the framework back: the new one is still its subscriber.
    assert.deepEqual(subscribedIds(a), [frameworkId], "the deposed leader did not subscribe again");
    const h = await getJson(`${b.api}/health`);
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.equal(h.body.role, "leader");
    assert.deepEqual(subscribedIds(b), [frameworkId], "the new leader was not failed over");
    assert.equal(await sigterm(b, "the new leader's exit"), 0);
  },
);

test(
  "a leader whose framework Mesos hands to another scheduler stops as deposed (exit 6), even while its ZooKeeper session lives",
  { timeout: 180_000 },
  async () => {
    zk ??= await ZooKeeperServer.start();
    cluster ??= await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const a = await startScheduler(cluster.masterUrl, zk.zkUrl("/scaleio-framework-taken"));
    await waitUntil(() => subscribedIds(a).length > 0, {
      timeoutMs: 60_000,
      what: `the leader subscribes (stderr: ${a.err().slice(-2000)})`,
    });
    const frameworkId = subscribedIds(a)[0]!;
    // Another scheduler subscribes as the same framework (as a cut-off leader's successor
    // would, before the old one hears that its session ended).
    const dir = mkdtempSync(join(tmpdir(), "sched-taken-"));
    const other = await FileStateStore.open(dir);
    await other.set("framework/id", { value: frameworkId });
    await other.close();
    const b = await startSchedulerProcess(["--master", cluster.masterUrl, "--state-dir", dir]);
    assert.equal(await withDeadline(a.exited, 30_000, "the old leader's exit"), 6, a.err());
    assert.match(
      a.err(),
      /scaleio-framework: no longer the leader \(Mesos handed the framework to another scheduler\): stopping/,
    );
    assert.deepEqual(subscribedIds(b), [frameworkId]);
    assert.equal(await sigterm(b, "the other scheduler's exit"), 0);
  },
);
