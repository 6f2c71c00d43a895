// Small promise helpers around node-zookeeper-client for tests that play Mesos masters.
import { createHash } from "node:crypto";
import zookeeper from "node-zookeeper-client";
import type { ACL, Client } from "node-zookeeper-client";
import { shutdownClient } from "../../src/mesos/detector/zookeeper.js";
import { waitForEvent, withDeadline } from "./wait.js";
import type { ZooKeeperServer } from "./zookeeper.js";

export type { Client };

function cb<T>(fn: (done: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** A connected client (the test's stand-in for a Mesos master's ZooKeeper session). */
export async function connectZk(
  server: ZooKeeperServer,
  opts: { sessionTimeout?: number; auth?: string } = {},
): Promise<Client> {
  const client = zookeeper.createClient(server.connectionString, {
    sessionTimeout: opts.sessionTimeout ?? 30_000,
    spinDelay: 100,
  });
  if (opts.auth) client.addAuthInfo("digest", Buffer.from(opts.auth));
  const connected = waitForEvent(client, "connected", { timeoutMs: 20_000 });
  client.connect();
  await connected;
  return client;
}

/**
 * Closes a client's session (if it has one) and stops its reconnection loop whatever its
 * state, so no socket or timer outlives the test.
 */
export async function closeZk(client: Client): Promise<void> {
  shutdownClient(client);
}

export function mkdirp(client: Client, path: string, acls?: ACL[]): Promise<string> {
  return cb((done) =>
    acls
      ? client.mkdirp(path, acls, zookeeper.CreateMode.PERSISTENT, done)
      : client.mkdirp(path, done),
  );
}

export function createNode(
  client: Client,
  path: string,
  data: string | Buffer | undefined,
  mode: number = zookeeper.CreateMode.PERSISTENT,
): Promise<string> {
  const buf = typeof data === "string" ? Buffer.from(data) : (data ?? Buffer.alloc(0));
  return cb((done) => client.create(path, buf, mode, done));
}

/** Registers like a Mesos master: an ephemeral sequential `json.info_` child holding JSON. */
export function registerMaster(client: Client, path: string, info: object): Promise<string> {
  return createNode(
    client,
    `${path}/json.info_`,
    JSON.stringify(info),
    zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
  );
}

export function removeNode(client: Client, path: string): Promise<void> {
  return cb((done) => client.remove(path, (err) => done(err, undefined)));
}

/** An ACL granting everything to one digest user only. */
export function digestAcl(user: string, password: string): ACL[] {
  const hash = createHash("sha1").update(`${user}:${password}`).digest("base64");
  return [
    new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id("digest", `${user}:${hash}`)),
  ];
}

export { withDeadline };
