// The scheduler keeping its state in ZooKeeper (--state zk://..., --zk-auth-file): it starts,
// subscribes and persists its framework id there, readable only with the credentials, which
// never show in its output.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { Secret } from "../../../src/common/secret.js";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { electionMembers } from "../../../src/ha/election-members.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitUntil, withDeadline } from "../../support/wait.js";
import {
  killAll,
  startSchedulerProcess,
  statusOf,
  TEST_ADMIN_PASSWORD,
} from "../../support/cli-process.js";

const ZK_PASSWORD = "zk-Digest-pw-42";
let cluster: DevCluster | undefined;
let zk: ZooKeeperServer | undefined;
after(async () => {
  killAll();
  await cluster?.stop();
  await zk?.destroy();
});

test(
  "--state zk://: the scheduler subscribes and keeps its framework id in ZooKeeper, behind its ACL",
  { timeout: 120_000 },
  async () => {
    zk = await ZooKeeperServer.start();
    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const dir = mkdtempSync(join(tmpdir(), "sched-zk-"));
    const authFile = join(dir, "zk-auth");
    writeFileSync(authFile, `scaleio:${ZK_PASSWORD}\n`, { mode: 0o600 });
    const url = zk.zkUrl("/scaleio-framework");
    const sched = await startSchedulerProcess([
      "--master",
      cluster.masterUrl,
      "--state",
      url,
      "--zk-auth-file",
      authFile,
    ]);
    const { api, child, exited } = sched;
    await waitUntil(async () => (await statusOf(`${api}/health`)) === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "healthy",
    });
    const first = JSON.parse(sched.err().split("\n")[0]!) as Record<string, string>;
    assert.equal(first.state, url);

    // The framework id is in ZooKeeper, for the digest user only.
    const reader = await ZkStateStore.open(url, {
      auth: new Secret(`scaleio:${ZK_PASSWORD}`, "test"),
    });
    try {
      await waitUntil(async () => (await reader.get("framework/id")) !== undefined, {
        timeoutMs: 30_000,
        what: "the framework id in ZooKeeper",
      });
    } finally {
      await reader.close();
    }
    await assert.rejects(
      (async () => {
        const other = await ZkStateStore.open(url, { auth: new Secret("x:y", "test") });
        try {
          await other.get("framework/id");
        } finally {
          await other.close();
        }
      })(),
      (e: unknown) => e instanceof StoreError && e.code === "ACL",
    );

    child.kill("SIGTERM");
    assert.equal(await withDeadline(exited, 20_000, "scheduler exit"), 0);
    for (const secret of [TEST_ADMIN_PASSWORD, ZK_PASSWORD]) {
      assert.ok(
        !sched.err().includes(secret) && !sched.out().includes(secret),
        "no secret in the output",
      );
    }
  },
);

test(
  "SIGTERM while the elected scheduler starts: it finishes starting, stops cleanly (exit 0) and leaves the election at once",
  { timeout: 120_000 },
  async () => {
    zk ??= await ZooKeeperServer.start();
    cluster ??= await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const url = zk.zkUrl("/scaleio-framework-early-stop");
    const sched = await startSchedulerProcess(["--master", cluster.masterUrl, "--state", url]);
    // The moment it is elected, before its full API and its Mesos subscription exist.
    await waitUntil(() => sched.err().includes('"msg":"elected leader: subscribing to Mesos"'), {
      timeoutMs: 60_000,
      what: `the election (stderr: ${sched.err().slice(-2000)})`,
    });
    sched.child.kill("SIGTERM");
    assert.equal(
      await withDeadline(sched.exited, 30_000, "the scheduler's exit"),
      0,
      sched.err().slice(-2000),
    );
    // It left the election itself: a standby would not wait a session timeout.
    const store = await ZkStateStore.open(url, {});
    try {
      assert.deepEqual(await electionMembers(store), []);
    } finally {
      await store.close();
    }
  },
);
