// The static-list detector against scripted HTTP masters on loopback.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { generate } from "selfsigned";
import { Agent } from "undici";
import type { AddressInfo } from "node:net";
import {
  StaticDetector,
  ZooKeeperDetector,
  createDetector,
  ipFromInt,
  masterUrl,
  parseMasterList,
  type DetectedMaster,
  type StaticDetectorOptions,
} from "../../../../src/mesos/detector/index.js";
import { MesosConfigError, NoLeaderError } from "../../../../src/mesos/errors.js";
import { freePort } from "../../../support/zookeeper.js";
import { waitForEventWhere as waitForEvent, withDeadline } from "../../../support/wait.js";

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  accept: string | undefined;
  body: string;
}

interface Scripted {
  port: number;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: Scripted[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** A scripted master: `handler` answers each request (after its body is read). */
async function scripted(
  handler: (req: Seen, res: ServerResponse, self: Scripted) => void,
  tls?: { key: string; cert: string },
): Promise<Scripted> {
  const seen: Seen[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        contentType: req.headers["content-type"],
        accept: req.headers.accept,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(s);
      handler(s, res, self);
    });
  };
  const server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const self: Scripted = {
    port,
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(self);
  return self;
}

function masterInfo(port: number, id: string) {
  return {
    id,
    ip: 16777343, // 127.0.0.1
    port,
    hostname: "127.0.0.1",
    address: { hostname: "127.0.0.1", ip: "127.0.0.1", port },
  };
}

function answerLeader(id: string) {
  return (req: Seen, res: ServerResponse, self: Scripted) => {
    if (req.method !== "POST" || req.url !== "/api/v1") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        type: "GET_MASTER",
        get_master: { master_info: masterInfo(self.port, id) },
      }),
    );
  };
}

function redirectTo(target: () => Scripted) {
  return (req: Seen, res: ServerResponse) => {
    // Real Mesos: scheme-relative Location with the original path.
    res.writeHead(307, { location: `//127.0.0.1:${target().port}${req.url}` }).end();
  };
}

const FAST: StaticDetectorOptions = {
  requestTimeoutMs: 2000,
  backoff: { initialMs: 20, maxMs: 100 },
};

const detectors: StaticDetector[] = [];
after(async () => {
  for (const d of detectors) await d.stop();
});
function detector(list: string, opts: StaticDetectorOptions = {}): StaticDetector {
  const d = new StaticDetector(list, { ...FAST, ...opts });
  detectors.push(d);
  return d;
}

function leaderIs(det: StaticDetector, url: string, timeoutMs = 10_000): Promise<DetectedMaster> {
  const cur = det.current();
  if (cur?.url === url) return Promise.resolve(cur);
  return waitForEvent<[DetectedMaster]>(det, "leader", (m) => m.url === url, timeoutMs).then(
    ([m]) => m,
  );
}

test("the leader answers GET_MASTER with its MasterInfo", async () => {
  const leader = await scripted(answerLeader("L1"));
  const det = detector(leader.url);
  det.start();
  const m = await withDeadline(det.next(), 10_000, "leader");
  assert.equal(m.url, leader.url);
  assert.equal(m.info?.id, "L1");
  assert.deepEqual(leader.seen[0], {
    method: "POST",
    url: "/api/v1",
    contentType: "application/json",
    accept: "application/json",
    body: '{"type":"GET_MASTER"}',
  });
});

test("a non-leader's scheme-relative 307 is followed with the same POST", async () => {
  const leader = await scripted(answerLeader("L2"));
  const follower = await scripted(redirectTo(() => leader));
  const det = detector(`127.0.0.1:${follower.port}`);
  det.start();
  const m = await withDeadline(det.next(), 10_000, "leader");
  assert.equal(m.url, leader.url);
  assert.equal(m.info?.id, "L2");
  assert.equal(follower.seen.length, 1);
  assert.equal(leader.seen[0]?.method, "POST");
  assert.equal(leader.seen[0]?.body, '{"type":"GET_MASTER"}');
});

test("https: the scheme-relative redirect keeps https", async () => {
  const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], { keyType: "ec" });
  const tls = { key: pems.private, cert: pems.cert };
  const leader = await scripted(answerLeader("TLS"), tls);
  const follower = await scripted(
    redirectTo(() => leader),
    tls,
  );
  // Loopback test certificate: trust is not what is under test here.
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  after(() => dispatcher.close());
  const det = detector(`127.0.0.1:${follower.port}`, { scheme: "https", dispatcher });
  det.start();
  const m = await withDeadline(det.next(), 10_000, "leader over https");
  assert.equal(m.url, `https://127.0.0.1:${leader.port}`);
  assert.equal(m.info?.id, "TLS");
});

test("503 (no leader / recovering) is retried with backoff until a leader answers", async () => {
  let calls = 0;
  const master = await scripted((req, res, self) => {
    calls += 1;
    if (calls <= 3) {
      res
        .writeHead(503)
        .end(calls === 1 ? "No leader elected" : "Master has not finished recovery");
      return;
    }
    answerLeader("L3")(req, res, self);
  });
  const other = await scripted((_req, res) => res.writeHead(503).end("No leader elected"));
  const det = detector(`${master.url},${other.url}`);
  const errors: Error[] = [];
  det.on("error", (e) => errors.push(e));
  const none = waitForEvent<[string]>(det, "noLeader");
  det.start();
  await none;
  const m = await withDeadline(det.next(), 10_000, "leader after 503s");
  assert.equal(m.info?.id, "L3");
  assert.ok(errors.length >= 1 && errors.every((e) => e instanceof NoLeaderError));
  assert.match(errors[0]!.message, /503/);
});

test("a dead address (connection refused) is skipped", async () => {
  const deadPort = await freePort();
  const leader = await scripted(answerLeader("L4"));
  const det = detector(`127.0.0.1:${deadPort},${leader.url}`);
  det.start();
  assert.equal((await withDeadline(det.next(), 10_000, "leader")).url, leader.url);

  // With only the dead one, every round reports why.
  const alone = detector(`127.0.0.1:${deadPort}`);
  const err = waitForEvent<[Error]>(alone, "error");
  alone.start();
  const [e] = await err;
  assert.ok(e instanceof NoLeaderError);
  assert.match(e.message, /ECONNREFUSED/);
  assert.equal(alone.current(), undefined);
});

test("a hanging master times out and the next one is asked", async () => {
  const hanging = await scripted(() => {
    /* never answers */
  });
  const leader = await scripted(answerLeader("L5"));
  const det = detector(`${hanging.url},${leader.url}`, { requestTimeoutMs: 300 });
  const errors: Error[] = [];
  det.on("error", (e) => errors.push(e));
  const started = Date.now();
  det.start();
  assert.equal((await withDeadline(det.next(), 10_000, "leader")).url, leader.url);
  assert.ok(Date.now() - started >= 250, "waited for the timeout");
  assert.equal(hanging.seen.length, 1);

  const alone = detector(hanging.url, { requestTimeoutMs: 200 });
  const err = waitForEvent<[Error]>(alone, "error");
  alone.start();
  assert.match((await err)[0].message, /did not answer within 200 ms/);
  // stop() does not wait for the hanging request.
  await withDeadline(alone.stop(), 2000, "stop during a hanging request");
});

test("a master without the operator API: GET /redirect names the leader", async () => {
  const leader = await scripted((req, res, self) => {
    if (req.method === "GET" && req.url === "/redirect") {
      res.writeHead(307, { location: `//127.0.0.1:${self.port}` }).end();
      return;
    }
    res.writeHead(404).end();
  });
  const follower = await scripted((req, res) => {
    if (req.url === "/redirect")
      res.writeHead(307, { location: `//127.0.0.1:${leader.port}` }).end();
    else res.writeHead(404).end();
  });
  const det = detector(follower.url);
  det.start();
  const m = await withDeadline(det.next(), 10_000, "leader");
  assert.equal(m.url, leader.url);
  assert.equal(m.info, undefined);
  assert.deepEqual(
    follower.seen.map((s) => `${s.method} ${s.url}`),
    ["POST /api/v1", "GET /redirect"],
  );
});

test("invalidate(url): the failed leader is forgotten and the new one found", async () => {
  let leaderNow: Scripted;
  const handler = (req: Seen, res: ServerResponse, self: Scripted) =>
    self === leaderNow
      ? answerLeader(`at-${self.port}`)(req, res, self)
      : redirectTo(() => leaderNow)(req, res);
  const a = await scripted(handler);
  const b = await scripted(handler);
  leaderNow = a;
  const det = detector(`${a.url},${b.url}`);
  det.start();
  await leaderIs(det, a.url);

  det.invalidate(b.url); // not the leader: a stale report, ignored
  assert.equal(det.current()?.url, a.url);

  leaderNow = b; // failover: a now redirects to b
  const none = waitForEvent<[string]>(det, "noLeader");
  const changed = leaderIs(det, b.url);
  det.invalidate(a.url);
  assert.match((await none)[0], /reported as failed/);
  assert.equal((await changed).info?.id, `at-${b.port}`);
});

test("refreshIntervalMs re-asks and notices a silent leader change", async () => {
  let leaderNow: Scripted;
  const handler = (req: Seen, res: ServerResponse, self: Scripted) =>
    self === leaderNow
      ? answerLeader(`at-${self.port}`)(req, res, self)
      : redirectTo(() => leaderNow)(req, res);
  const a = await scripted(handler);
  const b = await scripted(handler);
  leaderNow = a;
  const det = detector(`${a.url},${b.url}`, { refreshIntervalMs: 50 });
  det.start();
  await leaderIs(det, a.url);
  leaderNow = b;
  await leaderIs(det, b.url);
});

test("parseMasterList accepts URLs and host:port, and names bad entries", () => {
  assert.deepEqual(parseMasterList("http://h1:5050, http://h2:5051"), [
    "http://h1:5050",
    "http://h2:5051",
  ]);
  assert.deepEqual(parseMasterList("h1:5050,h2"), ["http://h1:5050", "http://h2:5050"]);
  assert.deepEqual(parseMasterList("h1:5050,https://h2", "https"), [
    "https://h1:5050",
    "https://h2:5050",
  ]);
  assert.deepEqual(parseMasterList("[::1]:5050,10.0.0.1"), [
    "http://[::1]:5050",
    "http://10.0.0.1:5050",
  ]);
  for (const [bad, msg] of [
    ["", /empty/],
    ["h1:5050,,h2:5050", /entry 2 is empty/],
    ["ftp://h:1", /http or https/],
    ["http://h:1/master", /must not have a path/],
    ["http://u:p@h:1", /must not carry credentials/],
    ["h:99999", /not a valid host:port/],
  ] as const) {
    assert.throws(
      () => parseMasterList(bad),
      (e: Error) => e instanceof MesosConfigError && msg.test(e.message),
    );
  }
});

test("createDetector picks the detector from the spec", async () => {
  const s = createDetector("h1:5050,h2:5050");
  assert.ok(s instanceof StaticDetector);
  assert.deepEqual((s as StaticDetector).masters, ["http://h1:5050", "http://h2:5050"]);
  const z = createDetector("zk://a:pw@127.0.0.1:2181/mesos");
  assert.ok(z instanceof ZooKeeperDetector);
  assert.equal(String((z as ZooKeeperDetector).url), "zk://***:***@127.0.0.1:2181/mesos");
  assert.throws(() => createDetector("  "), MesosConfigError);
  await s.stop();
  await z.stop();
});

test("masterUrl: address first, deprecated fields as fallback, ip as little-endian int", () => {
  assert.equal(ipFromInt(352583690), "10.0.4.21");
  const full = {
    id: "x",
    ip: 352583690,
    port: 5050,
    hostname: "old.example",
    address: { hostname: "m1.example", ip: "10.0.4.21", port: 5051 },
  };
  assert.equal(masterUrl(full), "http://m1.example:5051");
  assert.equal(masterUrl(full, { preferIp: true, scheme: "https" }), "https://10.0.4.21:5051");
  assert.equal(
    masterUrl({ id: "x", ip: 352583690, port: 5050, hostname: "old.example" }),
    "http://old.example:5050",
  );
  assert.equal(masterUrl({ id: "x", ip: 352583690, port: 5050 }), "http://10.0.4.21:5050");
  assert.equal(
    masterUrl({ id: "x", ip: 0, port: 5050, address: { ip: "fd00::1", port: 5050 } }),
    "http://[fd00::1]:5050",
  );
  assert.equal(masterUrl({ id: "x", ip: 0, port: 0 }), undefined);
});
