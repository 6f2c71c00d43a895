// Section 11 item 17 with a real ZooKeeper: masters register `json.info_<seq>` nodes with
// MasterInfo JSON, the lowest sequence leads, non-leaders redirect, and failover moves
// leadership to the standby. Uses the shared real-ZooKeeper harness.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import zookeeper from "node-zookeeper-client";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { FRAMEWORK, Scheduler, http, until } from "./helpers.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";

let server: ZooKeeperServer | undefined;
let port = 0;
let c: DevCluster | undefined;

function client(): Promise<zookeeper.Client> {
  const cl = zookeeper.createClient(`127.0.0.1:${port}`, { sessionTimeout: 5000, retries: 1 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no ZooKeeper")), 3000);
    cl.once("connected", () => {
      clearTimeout(t);
      resolve(cl);
    });
    cl.connect();
  });
}

/** ZooKeeper calls wait for a reconnection forever; tests must not. */
function deadline<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`ZooKeeper ${what} timed out`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function children(cl: zookeeper.Client): Promise<string[]> {
  return deadline(
    new Promise((resolve, reject) =>
      cl.getChildren("/mesos", (err, ch) => (err ? reject(err) : resolve(ch))),
    ),
    "getChildren",
  );
}

async function data(cl: zookeeper.Client, node: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    cl.getData(`/mesos/${node}`, (err, d) =>
      err ? reject(err) : resolve(JSON.parse(d.toString("utf8"))),
    ),
  );
}

before(async () => {
  // Fails (never skips) when ZooKeeper is not installed: CI installs it.
  server = await ZooKeeperServer.start({ tickTimeMs: 2000 });
  port = server.port;
});

after(async () => {
  await c?.stop();
  await server?.destroy();
});

test("masters contend in ZooKeeper; the lowest json.info_ leads; failover moves leadership", async () => {
  c = await startDevCluster({
    agents: 1,
    zk: `zk://127.0.0.1:${port}/mesos`,
    standbyMaster: true,
    master: { allocationIntervalMs: 100 },
    agent: { registrationBackoffMs: 100 },
  });
  const cl = await client();
  try {
    const [leader, standby] = c.masters;
    let nodes: string[] = [];
    await until(
      async () =>
        (nodes = (await children(cl)).filter((n) => n.startsWith("json.info_")).sort()).length ===
        2,
    );
    assert.match(nodes[0]!, /^json\.info_\d{10}$/);
    const info = await data(cl, nodes[0]!);
    assert.equal(info.id, leader!.id);
    assert.deepEqual(info.address, {
      hostname: leader!.info.hostname,
      ip: leader!.info.address!.ip,
      port: leader!.info.port,
    });
    // The standby knows the leader from ZooKeeper and redirects.
    await until(() => standby!.leader?.id === leader!.id);
    const r = await http(`${standby!.url}/api/v1/scheduler`, {
      body: { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } },
    });
    assert.equal(r.status, 307);
    assert.equal(
      r.headers.location,
      `//${leader!.info.hostname}:${leader!.info.port}/api/v1/scheduler`,
    );
    await c.agents[0]!.id();
    const s = await Scheduler.subscribe(c.masterUrl);
    s.close();
    await c.failoverMaster();
    assert.equal(c.master, standby);
    await until(
      async () => (await children(cl)).filter((n) => n.startsWith("json.info_")).length === 1,
    );
    const only = (await children(cl)).find((n) => n.startsWith("json.info_"))!;
    assert.equal((await data(cl, only)).id, standby!.id);
    await until(
      () => leader!.leader?.id === standby!.id,
      10_000,
      "the old leader to learn the new one",
    );
    const moved = await http(`${leader!.url}/api/v1/scheduler`, {
      body: { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } },
    });
    assert.equal(moved.status, 307);
    assert.equal(
      moved.headers.location,
      `//${standby!.info.hostname}:${standby!.info.port}/api/v1/scheduler`,
    );
    const again = await Scheduler.subscribe(standby!.url, {
      ...FRAMEWORK,
      id: { value: s.frameworkId },
    });
    try {
      assert.equal(again.frameworkId, s.frameworkId);
      await again.offers(1, 10_000);
    } finally {
      again.close();
    }
  } finally {
    cl.close();
  }
});
