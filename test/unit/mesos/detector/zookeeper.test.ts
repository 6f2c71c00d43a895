// The ZooKeeper detector against a real ZooKeeper server on loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import zookeeper from "node-zookeeper-client";
import type { Client } from "node-zookeeper-client";
import type { DetectedMaster } from "../../../../src/mesos/detector/base.js";
import {
  ZooKeeperDetector,
  lowestMasterChild,
  type ZooKeeperDetectorOptions,
} from "../../../../src/mesos/detector/zookeeper.js";
import { DetectorError, NoLeaderError } from "../../../../src/mesos/errors.js";
import type { MasterInfo } from "../../../../src/mesos/types/common.js";
import { ZooKeeperServer } from "../../../support/zookeeper.js";
import {
  closeZk,
  connectZk,
  createNode,
  digestAcl,
  mkdirp,
  registerMaster,
  removeNode,
} from "../../../support/zk-client.js";
import { TcpProxy } from "../../../support/tcp-proxy.js";
import { waitForEventWhere as waitForEvent, withDeadline } from "../../../support/wait.js";

function info(n: number): MasterInfo {
  return {
    id: `master-${n}`,
    ip: n << 24 /* 0.0.0.n, irrelevant when address is set */,
    port: 5050,
    hostname: `m${n}.example`,
    address: { hostname: `m${n}.example`, ip: `10.0.0.${n}`, port: 5050 },
  };
}
const urlOf = (n: number) => `http://m${n}.example:5050`;

const FAST = {
  backoff: { initialMs: 50, maxMs: 500 },
  spinDelayMs: 100,
} satisfies ZooKeeperDetectorOptions;

/** Resolves when the detector's leader is `url` (now or on a later 'leader' event). */
function leaderIs(
  det: ZooKeeperDetector,
  url: string,
  timeoutMs = 20_000,
): Promise<DetectedMaster> {
  const cur = det.current();
  if (cur?.url === url) return Promise.resolve(cur);
  return waitForEvent<[DetectedMaster]>(det, "leader", (m) => m.url === url, timeoutMs).then(
    ([m]) => m,
  );
}

function errorWithCode(det: ZooKeeperDetector, code: string, timeoutMs = 20_000): Promise<[Error]> {
  return waitForEvent<[Error]>(
    det,
    "error",
    (e) => e instanceof DetectorError && e.code === code,
    timeoutMs,
  );
}

test("lowestMasterChild compares sequence numbers, not names, and ignores other children", () => {
  assert.equal(lowestMasterChild(["json.info_10", "json.info_9", "log_replicas"]), "json.info_9");
  assert.equal(
    lowestMasterChild([
      "json.info_0000000012",
      "info_0000000001",
      "json.info_0000000003",
      "json.info_x",
    ]),
    "json.info_0000000003",
  );
  assert.equal(lowestMasterChild(["log_replicas", "info_0000000001"]), undefined);
  assert.equal(lowestMasterChild([]), undefined);
});

describe("ZooKeeperDetector on a shared ZooKeeper server", () => {
  let server: ZooKeeperServer;
  let admin: Client;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    server = await ZooKeeperServer.start({ maxSessionTimeoutMs: 60_000 });
    admin = await connectZk(server);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    if (admin) await closeZk(admin);
    await server?.destroy();
  });

  function detector(
    path: string,
    opts: ZooKeeperDetectorOptions = {},
    credentials?: string,
  ): ZooKeeperDetector {
    const det = new ZooKeeperDetector(server.zkUrl(path, credentials), { ...FAST, ...opts });
    cleanups.push(() => det.stop());
    return det;
  }

  async function master(path: string, n: number): Promise<{ client: Client; znode: string }> {
    const client = await connectZk(server);
    cleanups.push(() => closeZk(client));
    return { client, znode: await registerMaster(client, path, info(n)) };
  }

  test("leader is the lowest json.info_ sequence (numeric, not lexical), other children ignored", async () => {
    const path = "/lowest/mesos";
    await mkdirp(admin, path);
    await createNode(admin, `${path}/json.info_10`, JSON.stringify(info(10)));
    await createNode(admin, `${path}/json.info_9`, JSON.stringify(info(9)));
    await createNode(admin, `${path}/log_replicas`, undefined);
    await createNode(admin, `${path}/info_0000000001`, Buffer.from([0x08, 0x96, 0x01])); // old binary
    await createNode(admin, `${path}/json.info_abc`, JSON.stringify(info(1)));
    const det = detector(path);
    det.start();
    const m = await withDeadline(det.next(), 20_000, "first leader");
    assert.equal(m.url, urlOf(9));
    assert.equal(m.info?.id, "master-9");
    assert.deepEqual(det.current(), m);

    // The leader's znode goes: json.info_10 is next (not json.info_abc, not info_...).
    const next = leaderIs(det, urlOf(10));
    await removeNode(admin, `${path}/json.info_9`);
    assert.equal((await next).info?.id, "master-10");
  });

  test("leader change: znode deleted, new masters added, a session ends", async () => {
    const path = "/change/mesos";
    await mkdirp(admin, path);
    const m1 = await master(path, 1);
    const m2 = await master(path, 2);
    assert.match(m1.znode, /\/json\.info_\d{10}$/);
    const det = detector(path);
    const leaders: string[] = [];
    det.on("leader", (m) => leaders.push(m.url));
    det.start();
    await leaderIs(det, urlOf(1));

    let changed = leaderIs(det, urlOf(2));
    await removeNode(m1.client, m1.znode);
    await changed;

    // A newer contender does not take over from the current leader...
    const m3 = await master(path, 3);
    assert.ok(m3.znode > m2.znode);
    // ...but it leads once the leader's session ends (its ephemeral znode vanishes).
    changed = leaderIs(det, urlOf(3));
    await closeZk(m2.client);
    await changed;
    assert.deepEqual(leaders, [urlOf(1), urlOf(2), urlOf(3)]);
  });

  test("no leader: reported, next() waits, and the first master to register is found", async () => {
    const path = "/empty/mesos";
    await mkdirp(admin, path);
    await createNode(admin, `${path}/log_replicas`, undefined);
    const det = detector(path);
    const none = waitForEvent<[string]>(det, "noLeader");
    det.start();
    const [reason] = await none;
    assert.match(reason, /no master registered under \/empty\/mesos/);
    assert.equal(det.current(), undefined);

    const waiting = det.next();
    const m = await master(path, 4);
    assert.equal((await withDeadline(waiting, 20_000, "next()")).url, urlOf(4));

    // Back to no leader when the only master goes.
    const gone = waitForEvent<[string]>(det, "noLeader");
    await removeNode(m.client, m.znode);
    await gone;
    assert.equal(det.current(), undefined);
  });

  test("path that does not exist yet is watched until a master creates it", async () => {
    const path = "/later/deep/mesos";
    const det = detector(path);
    const none = waitForEvent<[string]>(det, "noLeader");
    det.start();
    assert.match((await none)[0], /\/later\/deep\/mesos does not exist/);
    const found = leaderIs(det, urlOf(5));
    await mkdirp(admin, path);
    await master(path, 5);
    await found;
  });

  test("malformed leader data is a typed error; detection keeps watching", async () => {
    const path = "/bad/mesos";
    await mkdirp(admin, path);
    await createNode(admin, `${path}/json.info_0000000001`, "{not json");
    await createNode(admin, `${path}/json.info_0000000002`, JSON.stringify({ id: "no-address" }));
    await createNode(admin, `${path}/json.info_0000000003`, JSON.stringify(info(6)));
    const det = detector(path);
    const badJson = errorWithCode(det, "MASTER_INFO_INVALID");
    const none = waitForEvent(det, "noLeader");
    det.start();
    const [err] = await badJson;
    assert.match(err.message, /json\.info_0000000001 is not MasterInfo JSON/);
    await none;
    assert.equal(det.current(), undefined);

    const noAddress = errorWithCode(det, "MASTER_INFO_INVALID");
    await removeNode(admin, `${path}/json.info_0000000001`);
    assert.match((await noAddress)[0].message, /json\.info_0000000002 has no usable address/);

    const found = leaderIs(det, urlOf(6));
    await removeNode(admin, `${path}/json.info_0000000002`);
    await found;
  });

  test("digest credentials from the URL are used; without them reads are refused", async () => {
    const path = "/secure/mesos";
    await mkdirp(admin, "/secure");
    const owner = await connectZk(server, { auth: "mesos:pa55" });
    cleanups.push(() => closeZk(owner));
    await mkdirp(owner, path, digestAcl("mesos", "pa55"));
    await createNode(owner, `${path}/json.info_0000000001`, JSON.stringify(info(7)));

    const good = detector(path, {}, "mesos:pa55");
    good.start();
    assert.equal(
      (await withDeadline(good.next(), 20_000, "leader with credentials")).url,
      urlOf(7),
    );

    const anonymous = detector(path);
    const refused = errorWithCode(anonymous, "ZK_ERROR");
    anonymous.start();
    assert.match((await refused)[0].message, /NO_AUTH/);
    assert.equal(anonymous.current(), undefined);
  });

  test("next() rejects on abort and on stop", async () => {
    const det = detector("/never/mesos");
    det.start();
    const ac = new AbortController();
    const aborted = det.next(ac.signal);
    ac.abort(new Error("gave up"));
    await assert.rejects(aborted, /gave up/);
    const pending = det.next();
    await det.stop();
    await assert.rejects(pending, NoLeaderError);
    await assert.rejects(det.next(), NoLeaderError);
  });
});

describe("ZooKeeperDetector when ZooKeeper fails", () => {
  let server: ZooKeeperServer;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    server = await ZooKeeperServer.start({ maxSessionTimeoutMs: 60_000 });
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await server?.destroy();
  });

  function track<T extends { stop(): Promise<void> } | Client>(x: T): T {
    cleanups.push(() => ("stop" in x ? x.stop() : closeZk(x)));
    return x;
  }

  test("ZooKeeper down at start: keeps retrying, then detects", async () => {
    const path = "/down/mesos";
    await server.stop();
    const det = track(
      new ZooKeeperDetector(server.zkUrl(path), { ...FAST, sessionTimeoutMs: 1000 }),
    );
    const unreachable = errorWithCode(det, "ZK_UNREACHABLE");
    det.start();
    await unreachable;
    await server.start();
    const admin = track(await connectZk(server));
    await mkdirp(admin, path);
    const found = leaderIs(det, urlOf(1));
    await registerMaster(admin, path, info(1));
    await found;
  });

  test("ZooKeeper restarted (crash): the detector reconnects and follows later changes", async () => {
    const path = "/restart/mesos";
    const masterClient = track(await connectZk(server));
    await mkdirp(masterClient, path);
    const znode = await registerMaster(masterClient, path, info(1));
    const det = track(new ZooKeeperDetector(server.zkUrl(path), FAST));
    det.start();
    await leaderIs(det, urlOf(1));

    await server.restart("SIGKILL");
    // The sessions survive a quick restart (same data directory): so does the leader.
    const other = track(await connectZk(server));
    await registerMaster(other, path, info(2));
    const changed = leaderIs(det, urlOf(2));
    await removeNode(other, znode);
    await changed;
    assert.equal(det.current()?.info?.id, "master-2");
  });

  test("session expiry: ZooKeeper down longer than the session timeout; a new session re-detects", async () => {
    const path = "/expiry/mesos";
    const masterClient = track(await connectZk(server, { sessionTimeout: 60_000 }));
    await mkdirp(masterClient, path);
    await registerMaster(masterClient, path, info(3));
    const clients: Client[] = [];
    const det = track(
      new ZooKeeperDetector(server.zkUrl(path), {
        ...FAST,
        sessionTimeoutMs: 1000,
        clientFactory: (cs, o) => {
          const c = zookeeper.createClient(cs, o);
          clients.push(c);
          return c;
        },
      }),
    );
    det.start();
    await leaderIs(det, urlOf(3));
    assert.equal(clients.length, 1);

    const expired = errorWithCode(det, "ZK_SESSION_EXPIRED");
    const lost = waitForEvent<[string]>(det, "noLeader");
    await server.stop();
    await expired;
    assert.match((await lost)[0], /session/i);
    assert.equal(det.current(), undefined);

    const back = leaderIs(det, urlOf(3));
    await server.start();
    await back;
    assert.ok(clients.length >= 2, "a new client (session) was created");
  });

  test("session expired by the server during a silent partition: a new session re-detects", async () => {
    const path = "/partition/mesos";
    const masterClient = track(await connectZk(server));
    await mkdirp(masterClient, path);
    await registerMaster(masterClient, path, info(4));
    const proxy = await TcpProxy.start({ host: server.host, port: server.port });
    cleanups.push(() => proxy.close());
    const clients: Client[] = [];
    const det = track(
      new ZooKeeperDetector(`zk://${proxy.connectionString}${path}`, {
        ...FAST,
        sessionTimeoutMs: 1000,
        clientFactory: (cs, o) => {
          const c = zookeeper.createClient(cs, o);
          clients.push(c);
          return c;
        },
      }),
    );
    det.start();
    await leaderIs(det, urlOf(4));

    // The detector's connection goes silent: no FIN, no RST. The client library does not
    // notice; the server expires the session after its timeout and closes its side; the
    // client reconnects (the proxy forwards new connections) and is told it expired.
    const expired = errorWithCode(det, "ZK_SESSION_EXPIRED");
    proxy.blackholeExisting();
    const [err] = await expired;
    assert.match(err.message, /session expired/i);
    await leaderIs(det, urlOf(4));
    assert.ok(clients.length >= 2, "a new client (session) was created");
  });

  test("a silent connection is cut when an operation misses its deadline (invalidate)", async () => {
    const path = "/silent/mesos";
    const masterClient = track(await connectZk(server));
    await mkdirp(masterClient, path);
    const m5 = await registerMaster(masterClient, path, info(5));
    const proxy = await TcpProxy.start({ host: server.host, port: server.port });
    cleanups.push(() => proxy.close());
    // A long session: only the operation deadline can notice the dead link in time.
    const det = track(
      new ZooKeeperDetector(`zk://${proxy.connectionString}${path}`, {
        ...FAST,
        sessionTimeoutMs: 4000,
      }),
    );
    det.start();
    await leaderIs(det, urlOf(5));

    proxy.blackholeExisting();
    await registerMaster(masterClient, path, info(6));
    await removeNode(masterClient, m5);
    const unreachable = errorWithCode(det, "ZK_UNREACHABLE");
    const changed = leaderIs(det, urlOf(6));
    det.invalidate(urlOf(5)); // e.g. the scheduler lost its stream to master 5
    await unreachable;
    await changed;
  });
});
