// deploy/marathon.json: valid JSON with the predecessor's essentials (one instance, unique
// hostname, port from Marathon, HTTP health check on /health), secrets only by reference,
// and a command line the scheduler's own configuration parser accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OPTIONS, SECRET_OPTIONS, loadConfig } from "../../../src/cli/config/load.js";
import { packageUrlOf } from "../../../src/cli/config/package-source.js";
import { COMPONENTS } from "../../../src/platforms/scaleio/node/common.js";

const app = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../deploy/marathon.json", import.meta.url)), "utf8"),
) as {
  instances: number;
  constraints: string[][];
  portDefinitions: { port: number }[];
  cmd: string;
  env: Record<string, unknown>;
  healthChecks: { protocol: string; path: string; portIndex: number }[];
};

test("the Marathon app keeps the predecessor's essentials", () => {
  assert.equal(app.instances, 1);
  assert.deepEqual(app.constraints, [["hostname", "UNIQUE"]]);
  assert.equal(app.portDefinitions.length, 1);
  assert.equal(app.portDefinitions[0]!.port, 0);
  const hc = app.healthChecks[0]!;
  assert.match(hc.protocol, /HTTP/);
  assert.equal(hc.path, "/health");
  assert.equal(hc.portIndex, 0);
  // Secrets by reference only: no literal value anywhere.
  assert.deepEqual(app.env.SCALEIO_ADMIN_PASSWORD, { secret: "adminPassword" });
  assert.deepEqual(app.env.SCALEIO_FRAMEWORK_API_TOKEN, { secret: "apiToken" });
  assert.deepEqual(Object.keys(app.env).sort(), [
    "SCALEIO_ADMIN_PASSWORD",
    "SCALEIO_FRAMEWORK_API_TOKEN",
    "SCALEIO_FRAMEWORK_PACKAGE_REPO",
    "SCALEIO_FRAMEWORK_PACKAGE_VERSION",
  ]);
});

test("the app names its packages: a repository and a version", () => {
  const loaded = loadConfig({
    env: Object.fromEntries(
      Object.entries(app.env).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
  });
  const pk = loaded.config.scaleio.packages;
  assert.match(pk.repo ?? "", /^https:\/\/repo\.example\.com\//);
  assert.equal(pk.version, "2.0-6035.0");
  // Every component of both formats has a URL: no install step fails for want of one.
  for (const format of ["rpm", "deb"] as const)
    for (const c of COMPONENTS) assert.ok(packageUrlOf(pk, format, c).includes(pk.version!));
});

test("the scheduler runs with a heap budget (the memory figure the benchmark measures)", () => {
  const words = app.cmd.split(/\s+/);
  const nodeFlags = words.slice(words.indexOf("node") + 1, words.indexOf("scheduler") - 1);
  assert.deepEqual(nodeFlags, ["--max-old-space-size=128", "--max-semi-space-size=4"]);
});

test("the scheduler's configuration parser accepts the app's arguments", () => {
  const words = app.cmd.split(/\s+/);
  const args = words.slice(words.indexOf("scheduler") + 1);
  // What Marathon and Mesos substitute.
  const vars: Record<string, string> = { $PORT0: "31005", $MESOS_SANDBOX: "/mnt/mesos/sandbox" };
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    assert.match(flag, /^--[a-z-]+$/, `${flag} is a long option`);
    const name = flag.slice(2);
    assert.ok(name in OPTIONS || name in SECRET_OPTIONS, `--${name} is a scheduler option`);
    flags[name] = args[i + 1]!.replace(/\$[A-Z_0-9]+/g, (v) => vars[v] ?? v);
  }
  assert.equal(flags["api-port"], "31005");
  const loaded = loadConfig({
    flags,
    env: { SCALEIO_ADMIN_PASSWORD: "from-marathon", SCALEIO_FRAMEWORK_API_TOKEN: "tok-123456" },
  });
  assert.equal(loaded.config.api.port, 31005);
  assert.equal(loaded.config.state.dir, "/mnt/mesos/sandbox/state");
  assert.equal(loaded.config.mesos.master, "zk://master.mesos:2181/mesos");
  assert.equal(loaded.config.executor.launch, "artifact");
  assert.ok(loaded.secrets.adminPassword && loaded.secrets.apiToken);
});
