// Where the state lives: --state (file:// or zk://) or --state-dir, as the configuration
// loads it and as the scheduler opens it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inspect } from "node:util";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { startLine } from "../../../src/cli/startup.js";
import { mesosRefusalLine } from "../../../src/cli/scheduler.js";
import { FrameworkRemovedError } from "../../../src/mesos/errors.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { describeLocation, openStateStore, stateLocation } from "../../../src/store/open-store.js";
import { StoreError } from "../../../src/store/store.js";

const PASSWORD = "hunter2-zk-Secret";

test("--state-dir is the default location; --state file:///path and zk://hosts/path choose one", () => {
  assert.deepEqual(stateLocation({ dir: "./s" }), { kind: "file", dir: resolve("./s") });
  assert.deepEqual(stateLocation({ dir: "./s", url: "file:///var/lib/scaleio" }), {
    kind: "file",
    dir: "/var/lib/scaleio",
  });
  const zk = stateLocation({ dir: "./s", url: "zk://zk1:2181,zk2:2182/scaleio-framework" });
  assert.equal(zk.kind, "zk");
  assert.equal(describeLocation(zk), "zk://zk1:2181,zk2:2182/scaleio-framework");
  for (const bad of ["http://x/y", "file://host/share", "zk://zk1:2181", "zk://zk1:99999/x"]) {
    assert.throws(
      () => stateLocation({ dir: ".", url: bad }),
      (e: unknown) => e instanceof StoreError && e.code === "BAD_URL",
      bad,
    );
  }
});

test("configuration: --state, --zk-session-timeout-ms and --zk-auth-file (a secret, never in the config)", () => {
  const dir = mkdtempSync(join(tmpdir(), "state-cfg-"));
  const auth = join(dir, "zk-auth");
  writeFileSync(auth, `scaleio:${PASSWORD}\n`, { mode: 0o600 });
  const { config, secrets } = loadConfig({
    env: {},
    flags: {
      state: "zk://127.0.0.1:2181/scaleio-framework",
      "zk-session-timeout-ms": "15000",
      "zk-auth-file": auth,
    },
  });
  assert.equal(config.state.url, "zk://127.0.0.1:2181/scaleio-framework");
  assert.equal(config.state.zkSessionTimeoutMs, 15000);
  assert.equal(secrets.zkAuth?.reveal(), `scaleio:${PASSWORD}`);
  assert.doesNotMatch(JSON.stringify(config) + inspect(secrets), new RegExp(PASSWORD));
  const line = startLine(config, { master: "m", apiUrl: "http://a", version: "v" });
  assert.equal(line.fields.state, "zk://127.0.0.1:2181/scaleio-framework");
  // The environment works too.
  const fromEnv = loadConfig({ env: { SCALEIO_FRAMEWORK_ZK_AUTH: `u:${PASSWORD}` } });
  assert.equal(fromEnv.secrets.zkAuth?.reveal(), `u:${PASSWORD}`);
  assert.equal(loadConfig({ env: {} }).config.state.zkSessionTimeoutMs, 10_000);
});

test("a --state URL with credentials is refused without echoing them", () => {
  let problems: string[] = [];
  try {
    loadConfig({ env: {}, flags: { state: `zk://scaleio:${PASSWORD}@127.0.0.1:2181/f` } });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = err.problems;
  }
  assert.ok(problems.length > 0, "refused");
  const text = problems.join("\n");
  assert.match(text, /--zk-auth-file/);
  assert.doesNotMatch(text, new RegExp(PASSWORD));
});

test("the scheduler opens the store its location names", async () => {
  const dir = mkdtempSync(join(tmpdir(), "state-open-"));
  const store = await openStateStore(stateLocation({ dir: "unused", url: `file://${dir}` }));
  assert.ok(store instanceof FileStateStore);
  assert.equal(store.dir, dir);
  await store.close();
});

test("a removed framework's line names the key to remove where the state lives", () => {
  const err = new FrameworkRemovedError("Framework has been removed");
  assert.match(
    mesosRefusalLine(err, stateLocation({ dir: ".", url: "file:///var/lib/sf" }), "F1"),
    /remove \/var\/lib\/sf\/framework\/id\.json$/,
  );
  assert.match(
    mesosRefusalLine(err, stateLocation({ dir: ".", url: "zk://zk1:2181/sf" }), "F1"),
    /remove the key framework\/id from zk:\/\/zk1:2181\/sf$/,
  );
});
