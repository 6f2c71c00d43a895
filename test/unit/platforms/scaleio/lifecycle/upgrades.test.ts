// The platform side of upgrades: what an operator's request is answered with (a downgrade and a
// second version while one is unfinished are refused with their codes; the same version again
// is accepted), the canary pause, installed versions learned from install results, the package
// URLs new installs get, and a configured newer version at start asking for the upgrade.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import type { PlatformContext } from "../../../../../src/framework/scheduler.js";
import type { AgentRegistry } from "../../../../../src/framework/agents.js";
import type { MesosLogger } from "../../../../../src/mesos/logger.js";
import type { GatewayClient } from "../../../../../src/platforms/scaleio/gateway/client.js";
import {
  ScaleioUpgrades,
  UpgradeError,
} from "../../../../../src/platforms/scaleio/lifecycle/upgrade.js";
import { waitUntil } from "../../../../support/wait.js";
import { CANARY_HOLD_PHASE } from "../../../../../src/platforms/scaleio/lifecycle/upgrade-plan.js";

const OLD = "2.0-6035.0";
const NEW = "2.0-13000.211";
const repo = (c: string, v: string) => `http://repo/EMC-ScaleIO-${c}-${v}.el7.x86_64.rpm`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as MesosLogger;

async function setup(
  dir = mkdtempSync(join(tmpdir(), "upgrades-")),
  configured = OLD,
  client: () => GatewayClient = () => ({}) as GatewayClient,
  observer: object = Object.assign(new EventEmitter(), { observeSoon() {} }),
) {
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agent = { agentId: "a1", hostname: "h1", ip: "10.0.0.1" };
  const logged: string[] = [];
  const ctx = {
    engine,
    store,
    logger: { ...quiet, error: (_o: unknown, m: string) => logged.push(m) },
    agents: {
      all: () => [agent],
      active: () => [agent],
      get: () => agent,
    } as unknown as AgentRegistry,
    runNode: async () => ({}),
  } as unknown as PlatformContext;
  const u = new ScaleioUpgrades({
    ctx,
    configuredUrl: (_fmt, c) => repo(c, configured),
    packageFormat: () => "rpm",
    mdms: () => undefined,
    sdsAgents: () => [{ agentId: "a1", protectionDomain: "pd" }],
    managers: () => ["10.0.0.1"],
    observer: () => observer as EventEmitter & { observeSoon(): void },
    client,
    system: {},
    canary: 1,
  });
  await u.load();
  return { u, engine, store, dir, logged };
}

test("an upgrade step waiting on the cluster has its first look taken at once, not after the observer's settle", async () => {
  const asked: string[] = [];
  const observer = Object.assign(new EventEmitter(), {
    observeSoon: () => asked.push("soon"),
    observe: async () => void asked.push("now"),
  });
  const { u, engine } = await setup(undefined, OLD, undefined, observer);
  await u.upgrade({ version: NEW });
  engine.start();
  await waitUntil(() => asked.length > 0, { timeoutMs: 5000, what: "a look asked for" });
  await engine.stop();
  assert.equal(asked[0], "now");
});

test("a downgrade is refused with its code; so is another version while one is unfinished", async () => {
  const { u, engine } = await setup();
  await assert.rejects(u.upgrade({ version: "2.0" }), (e: UpgradeError) => {
    assert.equal(e.code, "BAD_VERSION");
    assert.equal(e.statusCode, 400);
    return true;
  });
  await assert.rejects(u.upgrade({ version: "1.32-4.0" }), (e: UpgradeError) => {
    assert.equal(e.code, "DOWNGRADE_REFUSED");
    assert.equal(e.statusCode, 409);
    assert.match(e.message, /the cluster's version 2\.0-6035\.0 is newer than 1\.32-4\.0/);
    return true;
  });
  await u.upgrade({ version: NEW, canary: 1 });
  assert.ok(engine.planIds().includes("upgrade"));
  assert.ok(engine.view("upgrade").phases.find((p) => p.id === CANARY_HOLD_PHASE)?.paused);
  await u.upgrade({ version: NEW }); // the same again: accepted, nothing changes
  await assert.rejects(u.upgrade({ version: "2.0-14000.0" }), (e: UpgradeError) => {
    assert.equal(e.code, "UPGRADE_IN_PROGRESS");
    return true;
  });
  // After it, the version installed is the target's: going back is a downgrade.
  await assert.rejects(u.upgrade({ version: OLD }), (e: UpgradeError) => {
    assert.equal(e.code, "DOWNGRADE_REFUSED");
    return true;
  });
});

test("installed versions from install results; new installs get the upgraded version", async () => {
  const { u } = await setup();
  u.noteResult("a1", "scaleio.install-packages", [
    { component: "sds", version: OLD },
    { component: "lia", version: OLD },
  ]);
  u.noteResult("a1", "scaleio.rexray-config", { component: "sds", version: "9.9-9.9" });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(u.versionsOf("a1"), { sds: OLD, lia: OLD });
  assert.equal(u.packageUrl("rpm", "sds"), repo("sds", OLD));
  await u.upgrade({ version: NEW });
  assert.equal(u.packageUrl("rpm", "sds"), repo("sds", NEW));
  await assert.rejects(u.upgrade({ version: "2.0-14000.0" }), /not finished/);
});

test("a newer configured version at start asks for the upgrade, with the configured canary", async () => {
  const dir = mkdtempSync(join(tmpdir(), "upgrades-start-"));
  const first = await setup(dir, OLD);
  await first.u.onStart();
  assert.ok(!first.engine.planIds().includes("upgrade"), "the first start only records it");
  const second = await setup(dir, NEW);
  await second.u.onStart();
  const v = second.engine.view("upgrade");
  assert.equal(v.name, `Upgrade ScaleIO to ${NEW}`);
  assert.ok(v.phases.find((p) => p.id === CANARY_HOLD_PHASE)?.paused, "the configured canary");
  const third = await setup(dir, OLD);
  await third.u.onStart();
  assert.ok(
    third.logged.some((m) => /older than before/.test(m)),
    "an older one is not a downgrade",
  );
});

test("SDC steps asking at once share one read of SDCs and volumes; a later ask reads again", async () => {
  let reads = 0;
  const sdcs = [
    { id: "C1", sdcIp: "10.0.0.1" },
    { id: "C2", sdcIp: "10.0.0.2" },
  ];
  let volumes = [
    { id: "V1", mappedSdcInfo: [{ sdcId: "C1" }, { sdcId: "C2" }] },
    { id: "V2", mappedSdcInfo: [{ sdcId: "C1" }] },
    { id: "V3" },
  ];
  const { u } = await setup(
    undefined,
    OLD,
    () =>
      ({
        allSdcs: async () => (reads++, sdcs),
        volumes: async () => volumes,
      }) as unknown as GatewayClient,
  );
  const counts = await Promise.all(
    ["10.0.0.1", "10.0.0.2", "10.0.0.9"].map((ip) => u.mappedVolumes(ip)),
  );
  assert.deepEqual(counts, [2, 1, 0]);
  assert.equal(reads, 1, "one read for the three asks");
  volumes = [];
  assert.equal(await u.mappedVolumes("10.0.0.1"), 0, "a later ask sees what is mapped now");
  assert.equal(reads, 2);
});
