import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { parseZkUrl } from "../../../../src/mesos/detector/zk-url.js";
import { MesosConfigError } from "../../../../src/mesos/errors.js";

test("single host with a path", () => {
  const u = parseZkUrl("zk://zk1:2181/mesos");
  assert.deepEqual(u.servers, [{ host: "zk1", port: 2181 }]);
  assert.equal(u.path, "/mesos");
  assert.equal(u.credentials, undefined);
  assert.equal(u.connectionString, "zk1:2181");
  assert.equal(String(u), "zk://zk1:2181/mesos");
});

test("several hosts, nested path, IPv4 and IPv6, default port", () => {
  const u = parseZkUrl(" zk://10.0.0.1:2181,zk2.example.net,[::1]:2182/a/mesos ");
  assert.deepEqual(u.servers, [
    { host: "10.0.0.1", port: 2181 },
    { host: "zk2.example.net", port: 2181 },
    { host: "::1", port: 2182 },
  ]);
  assert.equal(u.path, "/a/mesos");
  assert.equal(u.connectionString, "10.0.0.1:2181,zk2.example.net:2181,[::1]:2182");
});

test("path defaults to / and a trailing slash is dropped", () => {
  assert.equal(parseZkUrl("zk://h:1").path, "/");
  assert.equal(parseZkUrl("zk://h:1/").path, "/");
  assert.equal(parseZkUrl("zk://h:1/mesos/").path, "/mesos");
});

test("credentials are parsed and never rendered", () => {
  const u = parseZkUrl("zk://alice:s3cr@t@h1:2181,h2:2181/mesos");
  assert.deepEqual(u.credentials, { username: "alice", password: "s3cr@t" });
  assert.deepEqual(
    u.servers.map((s) => s.host),
    ["h1", "h2"],
  );
  for (const rendered of [
    String(u),
    JSON.stringify(u),
    JSON.stringify({ u }),
    inspect(u),
    `${u}`,
  ]) {
    assert.ok(!rendered.includes("s3cr"), rendered);
    assert.ok(!rendered.includes("alice"), rendered);
  }
  assert.equal(String(u), "zk://***:***@h1:2181,h2:2181/mesos");
});

const bad: [string, RegExp][] = [
  ["", /must start with "zk:\/\/"/],
  ["http://h:1/mesos", /must start with "zk:\/\/"/],
  ["zk://", /no ZooKeeper server/],
  ["zk:///mesos", /no ZooKeeper server/],
  ["zk://h:1,,h2:2/m", /server 2 in the host list is empty/],
  ["zk://h:abc/m", /non-numeric port/],
  ["zk://h:0/m", /port 0 outside 1-65535/],
  ["zk://h:70000/m", /port 70000 outside/],
  ["zk://:2181/m", /has no host name/],
  ["zk://bad_host!:2181/m", /invalid host name/],
  ["zk://[::1/m", /unclosed "\["/],
  ["zk://h:1/a//b", /empty segment/],
  ["zk://h:1/a/../b", /relative segment/],
  ["zk://h:1/m?x=1", /query strings/],
  ["zk://user@h:1/m", /credentials must be "user:password"/],
  ["zk://:pw@h:1/m", /empty user name/],
  ["zk://u:@h:1/m", /empty password/],
];

for (const [input, message] of bad) {
  test(`rejects ${JSON.stringify(input)}`, () => {
    assert.throws(
      () => parseZkUrl(input),
      (err: unknown) => {
        assert.ok(err instanceof MesosConfigError);
        assert.equal(err.code, "CONFIG");
        assert.match(err.message, message);
        return true;
      },
    );
  });
}

test("errors about malformed URLs with credentials do not echo the password", () => {
  for (const input of [
    "zk://u:topsecret@h:abc/m",
    "zk://u:topsecret@/m",
    "zk://u:topsecret@h:1/a//b",
  ]) {
    assert.throws(
      () => parseZkUrl(input),
      (err: Error) => !err.message.includes("topsecret") && err instanceof MesosConfigError,
    );
  }
});
