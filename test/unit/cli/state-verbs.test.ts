// The `state` verbs' parsing, confirmation and redaction, and the predecessor's -store.* flags
// mapped onto them and onto --state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { translateLegacyArgs } from "../../../src/cli/config/aliases.js";
import {
  extractStoreFlags,
  legacyStateCommand,
  legacyStateUrl,
} from "../../../src/cli/state-aliases.js";
import { isSecretKey, redactValue, shownValue } from "../../../src/cli/state-redact.js";
import {
  parseValue,
  stateDelete,
  stateDump,
  stateGet,
  stateSet,
  StateCommandError,
  type StateIo,
} from "../../../src/cli/state.js";
import { FileStateStore } from "../../../src/store/file-store.js";

function fakeIo(opts: { interactive?: boolean; answer?: boolean } = {}) {
  const io = {
    stdout: "",
    stderr: "",
    asked: [] as string[],
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    interactive: opts.interactive ?? false,
    ask: async (q: string) => {
      io.asked.push(q);
      return opts.answer ?? false;
    },
  };
  return io satisfies StateIo;
}

const rejectsWith = (code: number, re: RegExp) => (e: unknown) =>
  e instanceof StateCommandError && e.exitCode === code && re.test(e.message);

test("-store.type zk -store.uri host:port/path is --state zk://host:port/path, with a notice", () => {
  const t = translateLegacyArgs(["-store.type", "zk", "-store.uri=10.0.0.1:2181/sfw", "-debug"]);
  assert.deepEqual(t.argv, ["--state=zk://10.0.0.1:2181/sfw"]);
  assert.ok(
    t.notices.some((n) => n.includes("--state zk://10.0.0.1:2181/sfw")),
    t.notices.join(),
  );
  assert.ok(!t.notices.some((n) => n.startsWith("ignoring -store.uri")));
  // A full URL is kept; a file store's path becomes a file:// URL.
  const url = (type: string | undefined, uri: string) =>
    legacyStateUrl(
      new Map<string, string | boolean>([
        ...(type ? [["store.type", type] as [string, string]] : []),
        ["store.uri", uri],
      ]),
    );
  assert.equal(url(undefined, "zk://a:1,b:2/x").url, "zk://a:1,b:2/x");
  assert.equal(url("file", "/var/lib/sfw").url, "file:///var/lib/sfw");
  assert.match(url("etcd", "x").problem ?? "", /zk \(ZooKeeper\) or file/);
  // Credentials in the URL never reach a notice.
  assert.ok(!url("zk", "user:pw@h:1/p").notice!.includes("pw"));
});

test("the predecessor's store operations become state verbs (options first, then --)", () => {
  const uri = ["-store.type=zk", "-store.uri", "h:2181/sfw"];
  const cmd = (...args: string[]) => legacyStateCommand(args);
  assert.deepEqual(cmd("-store.dump", ...uri), {
    argv: ["state", "dump", "--state", "zk://h:2181/sfw", "--"],
    notices: ["-store.dump is `scaleio-framework state dump --state zk://h:2181/sfw` now"],
  });
  const set = cmd("scheduler", ...uri, "-store.add.key", "a/b", "-store.add.value", "-5", "--yes");
  assert.ok(set && "argv" in set);
  assert.deepEqual(set.argv, [
    "state",
    "set",
    "--state",
    "zk://h:2181/sfw",
    "--yes",
    "--",
    "a/b",
    "-5",
  ]);
  assert.ok(!set.notices.join().includes("-5"), "the value is not echoed");
  const del = cmd("-store.del.key=a/b", "--state-dir", "/d", "-scaleio.password=x");
  assert.ok(del && "argv" in del);
  assert.deepEqual(del.argv, ["state", "delete", "--state-dir", "/d", "--", "a/b"]);
  assert.ok(del.notices.some((n) => /ignoring 1 other argument/.test(n)));
  const all = cmd("-store.delete", ...uri);
  assert.ok(all && "argv" in all);
  assert.deepEqual(all.argv.slice(0, 3), ["state", "delete", "--all"]);
  // Not a store operation: the command line is left to the scheduler.
  assert.equal(cmd("-store.type", "zk", "-store.uri", "h:1/p", "-uri", "m:5050"), undefined);
  assert.equal(cmd("status", "-store.dump"), undefined);
  assert.deepEqual(cmd("-store.dump", "-store.del.key", "k"), {
    problem: "give one of -store.dump, -store.del.key, not several",
  });
  assert.deepEqual(cmd("-store.add.key", "k"), {
    problem: "-store.add.key needs -store.add.value",
  });
  assert.equal(extractStoreFlags(["-store.dump=false"]).values.get("store.dump"), false);
});

test("secrets: keys under secrets/ or vault/ and credential-named fields are redacted", () => {
  assert.ok(isSecretKey("secrets/admin"));
  assert.ok(isSecretKey("scaleio/vault/x"));
  assert.ok(isSecretKey("scaleio/admin-password"));
  assert.ok(!isSecretKey("framework/id"));
  assert.ok(!isSecretKey("scaleio/placement"));
  const r = redactValue({ a: 1, nested: [{ apiToken: "t", ok: "y" }], password: "p", secret: "" });
  assert.deepEqual(r.value, {
    a: 1,
    nested: [{ apiToken: "[redacted]", ok: "y" }],
    password: "[redacted]",
    secret: "",
  });
  assert.equal(r.redacted, 2);
  assert.deepEqual(shownValue("secrets/x", { anything: 1 }), { value: "[redacted]", redacted: 1 });
});

test("set validates the JSON value and the key before anything is opened", async () => {
  assert.deepEqual(parseValue("k", '{"a":[1]}'), { a: [1] });
  assert.throws(() => parseValue("k", "plain"), rejectsWith(2, /not JSON.*quoted/));
  const dir = join(mkdtempSync(join(tmpdir(), "state-verbs-")), "none");
  const io = fakeIo();
  await assert.rejects(
    stateSet("../x", "1", { stateDir: dir, yes: true }, io),
    rejectsWith(2, /invalid store key/),
  );
  await assert.rejects(
    stateSet("k", "nope", { stateDir: dir, yes: true }, io),
    rejectsWith(2, /not JSON/),
  );
  await assert.rejects(stateDelete(undefined, { stateDir: dir }, io), rejectsWith(2, /--all/));
});

test("writes need --yes or an interactive yes; without a terminal they refuse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "state-verbs-"));
  const opts = { stateDir: dir };
  await assert.rejects(
    stateSet("a", "1", opts, fakeIo()),
    rejectsWith(2, /^refusing to set a in .* without confirmation: no terminal to ask; add --yes$/),
  );
  const no = fakeIo({ interactive: true, answer: false });
  await assert.rejects(stateSet("a", "1", opts, no), rejectsWith(2, /not confirmed/));
  assert.match(no.asked[0]!, /^set a in .*\? \[y\/N\] $/);
  await stateSet("a", "1", opts, fakeIo({ interactive: true, answer: true }));
  await stateSet("b", '{"password":"pw","n":2}', { ...opts, yes: true }, fakeIo());
  await assert.rejects(stateDelete("a", opts, fakeIo()), rejectsWith(2, /refusing to delete a/));

  const dump = fakeIo();
  await stateDump(opts, dump);
  assert.equal(dump.stdout, 'a 1\nb {"password":"[redacted]","n":2}\n');
  assert.match(dump.stderr, /2 key\(s\) in .*; 1 secret value\(s\) shown as \[redacted\]/);
  const get = fakeIo();
  await stateGet("a", opts, get);
  assert.equal(get.stdout, "1\n");
  await assert.rejects(stateGet("zz", opts, fakeIo()), rejectsWith(1, /zz: no value/));

  await stateDelete("a", { ...opts, yes: true }, fakeIo());
  const store = await FileStateStore.open(dir);
  try {
    assert.equal(await store.get("a"), undefined);
    assert.deepEqual(await store.get("b"), { password: "pw", n: 2 });
  } finally {
    await store.close();
  }
});

test("a file store another live process holds is reported as locked, at once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "state-verbs-"));
  // The lock of a live process (this test's parent): nothing is opened or taken over.
  writeFileSync(join(dir, ".lock"), `${process.ppid}\n`);
  await assert.rejects(
    stateDump({ stateDir: dir }, fakeIo()),
    rejectsWith(
      1,
      new RegExp(`is locked by a running scheduler \\(process ${process.ppid}\\): stop it first`),
    ),
  );
  assert.equal(readFileSync(join(dir, ".lock"), "utf8"), `${process.ppid}\n`);
});

test("dump leaves out the leader's views for standbys unless --views", async () => {
  const dir = mkdtempSync(join(tmpdir(), "state-verbs-"));
  const store = await FileStateStore.open(dir);
  await store.set("framework/id", { value: "fw-1" });
  await store.set("views/meta", { pieces: 2 });
  await store.set("views/nodes/0", [{ hostname: "a" }]);
  await store.close();
  const plain = fakeIo();
  await stateDump({ stateDir: dir }, plain);
  assert.equal(plain.stdout, 'framework/id {"value":"fw-1"}\n');
  assert.match(
    plain.stderr,
    /1 key\(s\) in .*; 2 key\(s\) of the leader's views for standbys \(views\/\) not shown: --views shows them\n$/,
  );
  const all = fakeIo();
  await stateDump({ stateDir: dir, views: true }, all);
  assert.equal(all.stdout.split("\n").filter(Boolean).length, 3);
  assert.doesNotMatch(all.stderr, /not shown/);
});
