// What the ZooKeeper store does beyond the shared contract: digest ACLs, large values in
// chunks, fencing, and a ZooKeeper that restarts or a session that expires.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import zookeeper from "node-zookeeper-client";
import { Secret } from "../../../src/common/secret.js";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore, type ZkStateStoreOptions } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { closeZk, connectZk, createNode, mkdirp, type Client } from "../../support/zk-client.js";
import { TcpProxy } from "../../support/tcp-proxy.js";
import { waitForEvent, waitUntil } from "../../support/wait.js";
import { bigValue } from "../../support/store-contract.js";

let server: ZooKeeperServer;
let n = 0;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  server = await ZooKeeperServer.start();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await server?.destroy();
});

const PASSWORD = "s3cret-Pa55word";
const alice = () => new Secret(`alice:${PASSWORD}`, "/etc/zk-auth (test)");

async function openStore(
  path: string,
  opts: ZkStateStoreOptions = {},
  url = server.zkUrl(path),
): Promise<ZkStateStore> {
  const s = await ZkStateStore.open(url, opts);
  cleanups.push(() => s.close());
  return s;
}

async function rawClient(auth?: string): Promise<Client> {
  const c = await connectZk(server, auth ? { auth } : {});
  cleanups.push(() => closeZk(c));
  return c;
}

function zkGet(c: Client, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    c.getData(path, (err, data) => (err ? reject(err) : resolve(data))),
  );
}

function zkChildren(c: Client, path: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    c.getChildren(path, (err, names) => (err ? reject(err) : resolve(names))),
  );
}

const code = (c: string) => (e: unknown) => e instanceof StoreError && e.code === c;

test("with an auth file, nobody else can read or write the framework's znodes", async () => {
  const root = `/acl-${++n}/scaleio-framework`;
  const warnings: string[] = [];
  const s = await openStore(root, { auth: alice(), onWarning: (m) => warnings.push(m) });
  await s.set("framework/id", { value: "f-1" });
  assert.deepEqual(warnings, []);

  // Anyone without the credentials: refused everywhere, the root included.
  const anon = await rawClient();
  for (const path of [root, `${root}/framework`, `${root}/framework/id`]) {
    await assert.rejects(zkGet(anon, path), (e: Error) => /NO_AUTH/.test(String(e)), path);
  }
  await assert.rejects(zkChildren(anon, root), (e: Error) => /NO_AUTH/.test(String(e)));
  // Another digest user: refused too, as a store with a stable code.
  await assert.rejects(
    (async () => {
      const other = await openStore(root, { auth: new Secret("mallory:guess", "test") });
      await other.get("framework/id");
    })(),
    code("ACL"),
  );
  // The owner reads it back with a raw client holding the same credentials.
  const owner = await rawClient(`alice:${PASSWORD}`);
  assert.equal(
    (await zkGet(owner, `${root}/framework/id`)).subarray(1).toString(),
    '{"value":"f-1"}',
  );
});

test("a root znode open to others is refused when an auth file is given; none gives a warning", async () => {
  const root = `/open-${++n}/scaleio-framework`;
  const anon = await rawClient();
  await mkdirp(anon, root);
  await assert.rejects(openStore(root, { auth: alice() }), (e: unknown) => {
    assert.ok(code("ACL")(e));
    assert.match((e as Error).message, /world:anyone/);
    assert.equal((e as StoreError).retryable, false);
    return true;
  });
  const warnings: string[] = [];
  const s = await openStore(root, { onWarning: (m) => warnings.push(m) });
  await s.set("k", 1);
  assert.match(warnings.join("\n"), /without --zk-auth-file/);
});

test("credentials never show: not in the URL, errors or the store's inspection", async () => {
  await assert.rejects(
    ZkStateStore.open(`zk://alice:${PASSWORD}@${server.connectionString}/x`),
    (e: unknown) => {
      assert.ok(code("BAD_URL")(e));
      assert.doesNotMatch((e as Error).message, new RegExp(PASSWORD));
      assert.match((e as Error).message, /--zk-auth-file/);
      return true;
    },
  );
  await assert.rejects(ZkStateStore.open(`zk://${server.connectionString}`), code("BAD_URL"));
  await assert.rejects(
    ZkStateStore.open(server.zkUrl("/x"), { auth: new Secret("no-colon", "test") }),
    (e: unknown) => code("BAD_AUTH")(e) && !(e as Error).message.includes("no-colon"),
  );
  const s = await openStore(`/quiet-${++n}/f`, { auth: alice() });
  assert.doesNotMatch(inspect(s, { depth: 1 }), new RegExp(PASSWORD));
  assert.doesNotMatch(JSON.stringify(s.url), new RegExp(PASSWORD));
});

test("large values are split in chunks below the znode limit; replaced chunks are removed", async () => {
  const root = `/chunks-${++n}/f`;
  const s = await openStore(root, { inlineMaxBytes: 1000, chunkBytes: 4000, commitMaxBytes: 2000 });
  const raw = await rawClient();
  const chunks = async (key: string) =>
    (await zkChildren(raw, `${root}/${key}`)).filter((c) => c.startsWith("_"));

  const v1 = bigValue(20_000, 1);
  await s.set("plans/deploy", v1);
  const first = await chunks("plans/deploy");
  assert.equal(first.length, Math.ceil(JSON.stringify(v1).length / 4000));
  for (const c of first) {
    assert.ok((await zkGet(raw, `${root}/plans/deploy/${c}`)).length <= 4000);
  }
  // A child key beside the chunks is listed; the chunks are not.
  await s.set("plans/deploy/steps/00", { a: 1 });
  assert.deepEqual(await s.list("plans"), ["plans/deploy", "plans/deploy/steps/00"]);

  const v2 = bigValue(9_000, 2);
  await s.set("plans/deploy", v2);
  const second = await chunks("plans/deploy");
  assert.equal(second.filter((c) => first.includes(c)).length, 0, "old chunks removed");
  assert.deepEqual(await s.get("plans/deploy"), v2);

  // Two values that each fit inline but not together: one goes to chunks, both commit.
  await s.commit([
    { op: "set", key: "a", value: "x".repeat(900) },
    { op: "set", key: "b", value: "y".repeat(900) },
    { op: "set", key: "c", value: "z".repeat(900) },
  ]);
  assert.equal(await s.get("b"), "y".repeat(900));
  assert.ok(
    (await chunks("a")).length + (await chunks("b")).length + (await chunks("c")).length > 0,
  );

  await s.delete("plans/deploy");
  assert.deepEqual(await chunks("plans/deploy"), []);
  assert.deepEqual(await s.list("plans"), ["plans/deploy/steps/00"]);
});

test("fenced writes: once the fence znode is gone, writes fail with FENCED and change nothing", async () => {
  const root = `/fence-${++n}/f`;
  const s = await openStore(root);
  const elector = await rawClient();
  await mkdirp(elector, `${root}-election`);
  const fence = await createNode(
    elector,
    `${root}-election/candidate_`,
    "",
    zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
  );
  s.setFence(fence);
  await s.set("k", 1);
  const v = (await s.getVersioned("k"))!.version;
  await s.checkWritable();

  // The elector's session ends (as when it expires): its ephemeral znode goes.
  await closeZk(elector);
  const raw = await rawClient();
  await waitUntil(() => new Promise<boolean>((r) => raw.exists(fence, (_e, st) => r(!st))), {
    what: "the fence znode gone",
    timeoutMs: 10_000,
  });
  const before = await zkChildren(raw, root);
  for (const write of [
    () => s.set("k", 2),
    () => s.setIf("k", 3, v),
    () => s.delete("k"),
    () => s.commit([{ op: "set", key: "other", value: 1 }]),
    () => s.set("plans/big", bigValue(2_000_000)),
    () => s.checkWritable(),
  ]) {
    await assert.rejects(
      write(),
      (e: unknown) => code("FENCED")(e) && (e as StoreError).retryable === false,
    );
  }
  // Nothing changed: same value and version, not even an empty znode or a chunk created.
  assert.deepEqual(await s.getVersioned("k"), { value: 1, version: v });
  assert.deepEqual(await zkChildren(raw, root), before);
  assert.deepEqual(await zkChildren(raw, `${root}/k`), []);
});

test("ZooKeeper restarting under a write: the write waits for it and completes", async () => {
  const zk = await ZooKeeperServer.start({ maxSessionTimeoutMs: 120_000 });
  cleanups.push(() => zk.destroy());
  // A session long enough to outlast the restart: the same session goes on after it.
  const s = await ZkStateStore.open(zk.zkUrl("/restart/f"), {
    sessionTimeoutMs: 90_000,
    opTimeoutMs: 90_000,
    spinDelayMs: 100,
  });
  cleanups.push(() => s.close());
  await s.set("k", 1);
  const session = s.connection.sessionId;
  await zk.stop();
  const disconnected = s.connection.isConnected
    ? waitForEvent(s.connection, "disconnected", { timeoutMs: 20_000 })
    : Promise.resolve();
  await disconnected;
  const write = s.set("k", 2);
  await zk.start();
  await write;
  assert.equal(await s.get("k"), 2);
  assert.equal(s.connection.sessionId, session);
});

test("a silent link: a conditional write fails retryable at its deadline; a plain one is sent again", async () => {
  const proxy = await TcpProxy.start({ host: server.host, port: server.port });
  cleanups.push(() => proxy.close());
  const path = `/silent-${++n}/f`;
  const s = await openStore(
    path,
    { sessionTimeoutMs: 10_000, opTimeoutMs: 500, spinDelayMs: 100 },
    `zk://${proxy.connectionString}${path}`,
  );
  const v = await s.setIf("k", 1, "absent");
  proxy.blackholeExisting();
  await assert.rejects(s.setIf("k", 2, v), (e: unknown) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.equal(e.code, "UNAVAILABLE");
    assert.equal(e.retryable, true);
    return true;
  });
  // The deadline cut the silent socket; the client reconnects through a new connection.
  await s.set("k", 3);
  assert.equal(await s.get("k"), 3);
  // A plain write caught by a silent link is sent again once the link is cut and back.
  proxy.blackholeExisting();
  await s.set("k", 4);
  assert.equal(await s.get("k"), 4);
});

test("a session expired during a partition is replaced by a new one; writes go on", async () => {
  const proxy = await TcpProxy.start({ host: server.host, port: server.port });
  cleanups.push(() => proxy.close());
  const path = `/partition-${++n}/f`;
  const s = await openStore(
    path,
    { sessionTimeoutMs: 1000, spinDelayMs: 100, backoff: { initialMs: 50, maxMs: 200 } },
    `zk://${proxy.connectionString}${path}`,
  );
  await s.set("k", 1);
  const first = s.connection.sessionId;
  // No FIN, no RST: the server expires the session and closes its side; the client then
  // reconnects, is told its session expired, and a new session replaces it.
  const expired = waitForEvent(s.connection, "expired", { timeoutMs: 20_000 });
  proxy.blackholeExisting();
  await expired;
  await s.set("k", 2);
  assert.equal(await s.get("k"), 2);
  assert.ok(s.connection.sessionId && s.connection.sessionId !== first);
});
