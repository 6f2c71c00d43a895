// `scaleio-framework state ...` run as a user runs it, against a state directory and against
// a real ZooKeeper: dump shows the keys but no secret, get/set/delete work with --yes, writes
// are refused without it (no terminal here), the predecessor's -store.* flags do the same,
// and a state directory held by a running scheduler is reported at once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Secret } from "../../../src/common/secret.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { LeaderElector } from "../../../src/ha/elector.js";
import { freePort, ZooKeeperServer } from "../../support/zookeeper.js";
import { waitUntil, withDeadline } from "../../support/wait.js";

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const SECRET = "Hidden-Adm1n-pw";
const ZK_PASSWORD = "zk-State-pw-77";
const children: ChildProcess[] = [];
let zk: ZooKeeperServer | undefined;
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await zk?.destroy();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with no terminal (stdin closed) and waits for it to end. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await withDeadline(
    new Promise<number | null>((r) => child.once("exit", (c) => r(c))),
    60_000,
    `scaleio-framework ${args.join(" ")}`,
  );
  return { code, stdout, stderr };
}

test("state verbs on a state directory", { timeout: 180_000 }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "state-cli-")), "state");
  const at = ["--state", `file://${dir}`];
  // The directory must exist: nothing is created by looking.
  const missing = await cli(["state", "dump", ...at]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no state at .*state: the directory does not exist/);
  assert.ok(!existsSync(dir));

  const refused = await cli(["state", "set", "framework/id", '{"value":"fw-1"}', ...at]);
  assert.equal(refused.code, 2);
  assert.equal(
    refused.stderr,
    `scaleio-framework: refusing to set framework/id in ${dir} without confirmation: no terminal to ask; add --yes\n`,
  );
  assert.ok(!existsSync(dir), "nothing written");

  for (const [key, value] of [
    ["framework/id", '{"value":"fw-1"}'],
    ["secrets/admin", JSON.stringify(SECRET)],
    ["scaleio/facts", JSON.stringify({ password: SECRET, mdms: 3 })],
  ] as const) {
    const r = await cli(["state", "set", key, value, "--state-dir", dir, "--yes"]);
    assert.equal(r.code, 0, r.stderr);
  }
  const bad = await cli(["state", "set", "a/../b", "1", ...at, "--yes"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^scaleio-framework: invalid store key 'a\/\.\.\/b'/);

  const dump = await cli(["state", "dump", ...at]);
  assert.equal(dump.code, 0, dump.stderr);
  assert.equal(
    dump.stdout,
    'framework/id {"value":"fw-1"}\nscaleio/facts {"password":"[redacted]","mdms":3}\nsecrets/admin [redacted]\n',
  );
  assert.match(dump.stderr, /3 key\(s\) in .*; 2 secret value\(s\) shown as \[redacted\]/);
  assert.ok(!dump.stdout.includes(SECRET) && !dump.stderr.includes(SECRET));

  const get = await cli(["state", "get", "framework/id", ...at]);
  assert.equal(get.code, 0);
  assert.deepEqual(JSON.parse(get.stdout), { value: "fw-1" });
  const secret = await cli(["state", "get", "secrets/admin", ...at]);
  assert.equal(secret.stdout, "[redacted]\n");

  const noDelete = await cli(["state", "delete", "framework/id", ...at]);
  assert.equal(noDelete.code, 2);
  assert.match(noDelete.stderr, /refusing to delete framework\/id .* add --yes\n$/);
  const del = await cli(["state", "delete", "framework/id", ...at, "-y"]);
  assert.equal(del.code, 0, del.stderr);
  const gone = await cli(["state", "get", "framework/id", ...at]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /framework\/id: no value/);

  // The predecessor's flags: the same operations, with a notice naming the modern form.
  const legacy = ["-store.type", "file", "-store.uri", dir];
  const add = await cli([...legacy, "-store.add.key", "a/b", "-store.add.value", "[1,2]", "--yes"]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(
    add.stderr,
    /notice: -store\.add\.key is `scaleio-framework state set a\/b <value> --state file:\/\//,
  );
  const legacyDump = await cli(["scheduler", ...legacy, "-store.dump"]);
  assert.equal(legacyDump.code, 0, legacyDump.stderr);
  assert.match(legacyDump.stdout, /^a\/b \[1,2\]$/m);
  assert.match(legacyDump.stderr, /notice: -store\.dump is `scaleio-framework state dump --state/);
  const legacyDel = await cli([...legacy, "-store.del.key", "a/b"]);
  assert.equal(legacyDel.code, 2, "still asks first");
  const wipe = await cli([...legacy, "-store.delete", "--yes"]);
  assert.equal(wipe.code, 0, wipe.stderr);
  assert.match(wipe.stderr, /deleted 3 key\(s\)/);
  const store = await FileStateStore.open(dir);
  try {
    assert.deepEqual(await store.list(""), []);
  } finally {
    await store.close();
  }
});

test(
  "a state directory held by a running scheduler is reported, not waited for",
  {
    timeout: 120_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "state-cli-held-"));
    // No Mesos master listens there: the scheduler keeps trying, holding its state directory.
    const master = `http://127.0.0.1:${await freePort()}`;
    const sched = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        main,
        "scheduler",
        "--master",
        master,
        "--api-address",
        "127.0.0.1",
        "--api-port",
        "0",
        "--state-dir",
        dir,
      ],
      {
        env: { ...process.env, SCALEIO_ADMIN_PASSWORD: SECRET },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(sched);
    let out = "";
    let err = "";
    sched.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    sched.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    await waitUntil(() => /^api: /m.test(out) && existsSync(join(dir, ".lock")), {
      timeoutMs: 60_000,
      what: `the scheduler's api: line and lock (stderr: ${err.slice(-1000)})`,
    });
    const started = Date.now();
    const r = await cli(["state", "dump", "--state-dir", dir]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `scaleio-framework: the state directory ${dir} is locked by a running scheduler (process ${sched.pid}): stop it first, or read its state through its API (scaleio-framework status, nodes, plan)\n`,
    );
    const set = await cli(["state", "set", "k", "1", "--state-dir", dir, "--yes"]);
    assert.equal(set.code, 1);
    assert.match(set.stderr, /locked by a running scheduler/);
    // Both answered without waiting for the lock (each is one CLI start).
    assert.ok(Date.now() - started < 55_000);
    sched.kill("SIGTERM");
  },
);

test("state verbs on ZooKeeper, behind its digest ACL", { timeout: 180_000 }, async () => {
  zk = await ZooKeeperServer.start();
  const dir = mkdtempSync(join(tmpdir(), "state-cli-zk-"));
  const authFile = join(dir, "zk-auth");
  writeFileSync(authFile, `scaleio:${ZK_PASSWORD}\n`, { mode: 0o600 });
  const url = zk.zkUrl("/scaleio-framework");
  const at = ["--state", url, "--zk-auth-file", authFile];

  const refused = await cli(["state", "set", "framework/id", '{"value":"fw-zk"}', ...at]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /^scaleio-framework: refusing to set framework\/id in zk:\/\/.* add --yes\n$/,
  );

  for (const [key, value] of [
    ["framework/id", '{"value":"fw-zk"}'],
    ["vault/admin", JSON.stringify(SECRET)],
    ["scaleio/placement", '["a","b","c"]'],
  ] as const) {
    const r = await cli(["state", "set", key, value, ...at, "--yes"]);
    assert.equal(r.code, 0, r.stderr);
  }
  const reader = await ZkStateStore.open(url, {
    auth: new Secret(`scaleio:${ZK_PASSWORD}`, "test"),
  });
  try {
    assert.deepEqual(await reader.get("framework/id"), { value: "fw-zk" });
  } finally {
    await reader.close();
  }

  const dump = await cli(["state", "dump", ...at, "--json"]);
  assert.equal(dump.code, 0, dump.stderr);
  assert.deepEqual(JSON.parse(dump.stdout), {
    "framework/id": { value: "fw-zk" },
    "scaleio/placement": ["a", "b", "c"],
    "vault/admin": "[redacted]",
  });
  const get = await cli(["state", "get", "scaleio/placement", ...at]);
  assert.deepEqual(JSON.parse(get.stdout), ["a", "b", "c"]);
  const del = await cli(["state", "delete", "scaleio/placement", ...at, "--yes"]);
  assert.equal(del.code, 0, del.stderr);

  // A scheduler in the election (a leader): writes refused, naming it; reads still answer.
  const running = await ZkStateStore.open(url, {
    auth: new Secret(`scaleio:${ZK_PASSWORD}`, "test"),
  });
  const leader = new LeaderElector(running, { api: "http://127.0.0.1:7777", pid: 4242 });
  try {
    const elected = new Promise((r) => leader.once("elected", r));
    leader.start();
    await withDeadline(elected, 30_000, "the stand-in scheduler leads");
    for (const args of [
      ["state", "set", "scaleio/placement", '["x"]', ...at, "--yes"],
      ["state", "delete", "framework/id", ...at, "--yes"],
      ["state", "delete", "--all", ...at, "--yes"],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^scaleio-framework: 1 scheduler\(s\) run on zk:\/\/.* \(the leader: process 4242, http:\/\/127\.0\.0\.1:7777\): stop them first/,
      );
    }
    const still = await cli(["state", "get", "framework/id", ...at]);
    assert.equal(still.code, 0, still.stderr);
    assert.deepEqual(JSON.parse(still.stdout), { value: "fw-zk" }, "nothing was deleted");
    assert.equal((await cli(["state", "get", "scaleio/placement", ...at])).code, 1);
  } finally {
    await leader.stop();
    await running.close();
  }

  // Without the credentials ZooKeeper refuses: one line, exit 1, nothing shown.
  const other = join(dir, "other-auth");
  writeFileSync(other, "someone:else\n", { mode: 0o600 });
  const denied = await cli(["state", "dump", "--state", url, "--zk-auth-file", other]);
  assert.equal(denied.code, 1);
  assert.equal(denied.stderr.trim().split("\n").length, 1, denied.stderr);
  assert.equal(denied.stdout, "");

  // The predecessor's -store.type zk -store.uri host:port/path.
  const legacy = await cli([
    "-store.type",
    "zk",
    "-store.uri",
    `${zk.connectionString}/scaleio-framework`,
    "-store.dump",
    "--zk-auth-file",
    authFile,
  ]);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.equal(legacy.stdout, 'framework/id {"value":"fw-zk"}\nvault/admin [redacted]\n');
  assert.match(
    legacy.stderr,
    /notice: -store\.dump is `scaleio-framework state dump --state zk:\/\/127\.0\.0\.1:\d+\/scaleio-framework` now/,
  );

  for (const r of [dump, get, del, denied, legacy]) {
    for (const s of [SECRET, ZK_PASSWORD]) {
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), "no secret in the output");
    }
  }
});

/** `script` (util-linux) runs a command on a pseudo-terminal: the CLI then asks. */
const scriptBin = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));

test(
  "at a terminal, a write asks and does only what the answer says",
  { timeout: 120_000, skip: scriptBin ? false : "no script(1) for a pseudo-terminal" },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "state-cli-tty-"));
    const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
    const onTerminal = async (answer: string, args: string[]) => {
      const command = [process.execPath, "--import", "tsx", main, ...args].map(quote).join(" ");
      const child = spawn(scriptBin!, ["-qec", command, "/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      children.push(child);
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      // Answer once the question is on the terminal.
      await waitUntil(() => /\[y\/N\]/.test(out), { timeoutMs: 60_000, what: "the question" });
      child.stdin!.write(`${answer}\n`);
      const code = await withDeadline(
        new Promise<number | null>((r) => child.once("exit", (c) => r(c))),
        60_000,
        "the answered command",
      );
      return { code, out };
    };
    const yes = await onTerminal("y", ["state", "set", "k", '{"a":1}', "--state-dir", dir]);
    assert.equal(yes.code, 0, yes.out);
    assert.match(yes.out, /set k in .*\? \[y\/N\]/);
    const no = await onTerminal("n", ["state", "delete", "k", "--state-dir", dir]);
    assert.equal(no.code, 2, no.out);
    assert.match(no.out, /not confirmed: nothing changed/);
    const store = await FileStateStore.open(dir);
    try {
      assert.deepEqual(await store.get("k"), { a: 1 });
    } finally {
      await store.close();
    }
  },
);
