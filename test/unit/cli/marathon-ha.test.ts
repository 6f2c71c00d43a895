// deploy/marathon-ha.json: two scheduler instances on different hosts sharing their state in
// ZooKeeper (no local volume to pin them to an agent), a health check a standby passes, secrets
// by reference only, a command line the scheduler's own configuration parser accepts, and
// everything else as deploy/marathon.json has it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OPTIONS, SECRET_OPTIONS, loadConfig } from "../../../src/cli/config/load.js";
import { buildStandbyServer } from "../../../src/ha/standby-server.js";
import { stateLocation } from "../../../src/store/open-store.js";

interface App {
  instances: number;
  constraints: string[][];
  portDefinitions: { port: number }[];
  container: { type: string; volumes?: unknown[] };
  residency?: unknown;
  upgradeStrategy: { minimumHealthCapacity: number; maximumOverCapacity: number };
  cmd: string;
  secrets: Record<string, { source: string }>;
  env: Record<string, unknown>;
  healthChecks: { protocol: string; path: string; portIndex: number }[];
  [key: string]: unknown;
}
const read = (name: string) =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../deploy/${name}`, import.meta.url)), "utf8"),
  ) as App;
const app = read("marathon-ha.json");
const single = read("marathon.json");

/** The scheduler's flags of the app's command, with what Marathon and Mesos substitute. */
function schedulerFlags(cmd: string): Record<string, string> {
  const words = cmd.split(/\s+/);
  const args = words.slice(words.indexOf("scheduler") + 1);
  const vars: Record<string, string> = { $PORT0: "31005", $MESOS_SANDBOX: "/mnt/mesos/sandbox" };
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    assert.match(flag, /^--[a-z-]+$/, `${flag} is a long option`);
    const name = flag.slice(2);
    assert.ok(name in OPTIONS || name in SECRET_OPTIONS, `--${name} is a scheduler option`);
    flags[name] = args[i + 1]!.replace(/\$[A-Z_0-9]+/g, (v) => vars[v] ?? v);
  }
  return flags;
}

test("two instances, one per host, with no local volume to pin them to an agent", () => {
  assert.equal(app.instances, 2);
  assert.deepEqual(app.constraints, [["hostname", "UNIQUE"]]);
  assert.equal(app.container.volumes, undefined, "no persistent volume");
  assert.equal(app.residency, undefined, "not resident: an instance may start on any agent");
  assert.ok(!/--state-dir|MESOS_SANDBOX/.test(app.cmd), "no state in the sandbox");
  // A rolling restart replaces one instance at a time: the other stays to take over.
  assert.equal(app.upgradeStrategy.minimumHealthCapacity, 0.5);
  assert.equal(app.upgradeStrategy.maximumOverCapacity, 0);
});

test("the scheduler's configuration parser accepts the app's arguments: state in ZooKeeper", () => {
  const flags = schedulerFlags(app.cmd);
  const loaded = loadConfig({
    flags,
    env: {
      SCALEIO_ADMIN_PASSWORD: "from-marathon",
      SCALEIO_FRAMEWORK_API_TOKEN: "tok-123456",
      SCALEIO_FRAMEWORK_ZK_AUTH: "scaleio:zk-secret",
    },
  });
  const loc = stateLocation(loaded.config.state);
  assert.equal(loc.kind, "zk");
  assert.equal(
    String(loc.kind === "zk" ? loc.url : ""),
    "zk://master.mesos:2181/scaleio-framework",
  );
  assert.equal(loaded.config.state.zkSessionTimeoutMs, 10_000);
  assert.equal(loaded.config.api.port, 31005);
  assert.equal(loaded.config.mesos.master, "zk://master.mesos:2181/mesos");
  assert.equal(loaded.config.executor.launch, "artifact");
  assert.ok(loaded.secrets.adminPassword && loaded.secrets.apiToken && loaded.secrets.zkAuth);
});

test("secrets by reference only, the ZooKeeper credentials among them", () => {
  assert.deepEqual(app.secrets.zkAuth, { source: "scaleio-framework/zk-auth" });
  assert.deepEqual(app.env.SCALEIO_ADMIN_PASSWORD, { secret: "adminPassword" });
  assert.deepEqual(app.env.SCALEIO_FRAMEWORK_API_TOKEN, { secret: "apiToken" });
  assert.deepEqual(app.env.SCALEIO_FRAMEWORK_ZK_AUTH, { secret: "zkAuth" });
  for (const [name, value] of Object.entries(app.env))
    if (typeof value !== "string")
      assert.ok((value as { secret: string }).secret in app.secrets, name);
});

test("the health check is on /health, which a standby passes (200, role standby)", async () => {
  assert.equal(app.healthChecks.length, 1);
  const hc = app.healthChecks[0]!;
  assert.match(hc.protocol, /HTTP/);
  assert.equal(hc.path, "/health");
  assert.equal(hc.portIndex, 0);
  const standby = buildStandbyServer({
    version: "1.2.3",
    election: {
      view: () => ({
        leader: false,
        current: { id: "c-1", pid: 1, api: "http://10.0.0.1:31005", since: "2026-12-03T00:00:00Z" },
      }),
    },
  });
  try {
    const res = await standby.inject({ url: hc.path });
    assert.equal(res.statusCode, 200, "Marathon must not restart a standby");
    assert.equal(res.json().role, "standby");
  } finally {
    await standby.close();
  }
});

test("everything else as deploy/marathon.json has it", () => {
  // What differs on purpose: the number of instances, the state (ZooKeeper, not a volume),
  // the rolling-restart strategy, and the ZooKeeper credentials.
  const differs = new Set([
    "instances",
    "container",
    "residency",
    "upgradeStrategy",
    "cmd",
    "secrets",
    "env",
  ]);
  const keys = new Set([...Object.keys(app), ...Object.keys(single)]);
  for (const k of keys) if (!differs.has(k)) assert.deepEqual(app[k], single[k], k);
  assert.deepEqual(
    { ...app.container, volumes: undefined },
    { ...single.container, volumes: undefined },
  );
  const { zkAuth, ...secrets } = app.secrets;
  assert.ok(zkAuth);
  assert.deepEqual(secrets, single.secrets);
  const { SCALEIO_FRAMEWORK_ZK_AUTH, ...env } = app.env;
  assert.ok(SCALEIO_FRAMEWORK_ZK_AUTH);
  assert.deepEqual(env, single.env);
  // The command: the same Node flags and scheduler flags, the state moved to ZooKeeper.
  const ha = schedulerFlags(app.cmd);
  const one = schedulerFlags(single.cmd);
  const { state, "zk-session-timeout-ms": timeout, ...rest } = ha;
  assert.ok(state && timeout);
  const { "state-dir": stateDir, ...restSingle } = one;
  assert.ok(stateDir);
  assert.deepEqual(rest, restSingle);
  const prefix = (cmd: string) => cmd.slice(0, cmd.indexOf(" scheduler "));
  assert.equal(prefix(app.cmd), prefix(single.cmd));
});
