// One observation of the emulated cluster through the real gateway client (nine requests
// whatever its size), and the health checks over it: what a fresh 3-SDS pool with the
// default 10 % spare, a filling pool, a killed SDS, SDC and MDM, a failed device and slow
// I/O each look like as conditions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readObserved } from "../../../src/platforms/scaleio/observe/read.js";
import { ScaleioHealthChecks } from "../../../src/platforms/scaleio/observe/checks.js";
import type { ConditionFinding } from "../../../src/framework/health/types.js";
import { startEnv, type Env } from "./support.js";

const GB = 1024 * 1024;
const types = (fs: ConditionFinding[]) =>
  fs.map((f) => `${f.type}:${f.severity}:${f.object}`).sort();

async function look(env: Env, checks = new ScaleioHealthChecks()) {
  const o = await readObserved(env.client, {}, () => env.clock.now());
  return { o, found: checks.check(o) };
}

test("a fresh 3-SDS pool: typed model, nine requests, and spare below the largest fault unit", async () => {
  const env = await startEnv(); // 3_node, 3 SDSs x one 100 GB device, spare 10 %, one SDC
  try {
    const { o, found } = await look(env);
    assert.equal(o.requests, 9);
    assert.equal(o.mdm.mode, "ThreeNodes");
    assert.equal(o.mdm.state, "ClusteredNormal");
    assert.deepEqual(o.mdm.members.map((m) => m.role).sort(), ["master", "slave", "tieBreaker"]);
    assert.equal(o.pools.length, 1);
    const p = o.pools[0]!;
    assert.equal(p.maxKb, 300 * GB);
    assert.equal(p.spareKb, 30 * GB);
    assert.equal(p.sparePercentage, 10);
    assert.equal(p.faultUnits, 3);
    assert.equal(p.largestFaultUnitPercent, 34, "one of three equal SDSs: 33.3 % rounded up");
    assert.equal(p.usedPercent, 0);
    assert.equal(o.sds.length, 3);
    assert.ok(o.sds.every((s) => s.connected));
    assert.equal(o.devices.length, 3);
    assert.ok(o.sdcs.every((c) => c.connected));
    assert.deepEqual(types(found), ["SpareBelowLargestFaultUnit:warning:pool/default/default"]);

    await env.client.setSparePercentage(p.id, 34);
    assert.deepEqual(types((await look(env)).found), [], "34 % spare holds one SDS: healthy");
  } finally {
    await env.close();
  }
});

test("capacity: a warning at 80 %, critical at 90 %, gone when the data goes", async () => {
  const env = await startEnv();
  try {
    const [pool] = await env.client.allStoragePools();
    await env.client.setSparePercentage(pool!.id, 34);
    const checks = new ScaleioHealthChecks();
    const nonSpareKb = 300 * GB - Math.round((300 * GB * 34) / 100);
    const fill = async (percent: number) => {
      await env.admin(`/admin/pools/${pool!.id}/clear`);
      // Written data is mirrored: each KB written uses two of the pool's raw capacity.
      await env.admin(`/admin/pools/${pool!.id}/write`, {
        sizeKb: Math.ceil((nonSpareKb * percent) / 100 / 2),
      });
      return look(env, checks);
    };
    let r = await fill(85);
    assert.ok(Math.abs(r.o.pools[0]!.usedPercent - 85) < 0.5, `used ${r.o.pools[0]!.usedPercent}`);
    assert.deepEqual(types(r.found), [`CapacityAlmostFull:warning:pool/default/default`]);
    r = await fill(93);
    assert.deepEqual(types(r.found), [`CapacityAlmostFull:critical:pool/default/default`]);
    assert.ok(r.found[0]!.values!.usedPercent! > 92);
    r = await fill(10);
    assert.deepEqual(types(r.found), []);
  } finally {
    await env.close();
  }
});

test("a killed SDS, SDC and slave MDM and a failed device are conditions on those objects; a rebuild shows progress", async () => {
  const env = await startEnv();
  try {
    const [pool] = await env.client.allStoragePools();
    await env.client.setSparePercentage(pool!.id, 34);
    await env.admin(`/admin/pools/${pool!.id}/write`, { sizeGb: 20 });
    const checks = new ScaleioHealthChecks();
    const { o } = await look(env, checks);
    const sdsIp = o.sds[2]!.ips[0]!;
    const sdcIp = o.sdcs[0]!.ip!;
    const slave = o.mdm.members.find((m) => m.role === "slave")!;
    await env.admin(`/admin/sds/${sdsIp}/kill`);
    await env.admin(`/admin/sdc/${sdcIp}/kill`);
    await env.admin(`/admin/mdm/${slave.ips[0]}/kill`);
    let r = await look(env, checks);
    const t = types(r.found);
    assert.ok(t.includes(`SdsDisconnected:warning:sds/${sdsIp}`), t.join("\n"));
    assert.ok(t.includes(`SdcDisconnected:warning:sdc/${sdcIp}`), t.join("\n"));
    assert.ok(t.includes(`MdmClusterDegraded:warning:mdm/${slave.ips[0]}`), t.join("\n"));
    const rebuilding = r.found.find((f) => f.type === "Rebuilding");
    assert.ok(rebuilding, `a rebuild starts: ${t.join("\n")}`);
    assert.match(rebuilding.message, /rebuilding \d+ %/);

    // Time passes: the rebuild moves on, its progress grows.
    env.clock.advance(20_000);
    r = await look(env, checks);
    const later = r.found.find((f) => f.type === "Rebuilding");
    if (later)
      assert.ok(
        later.values!.progressPercent! > rebuilding.values!.progressPercent!,
        later.message,
      );

    for (const [kind, ip] of [
      ["sds", sdsIp],
      ["sdc", sdcIp],
      ["mdm", slave.ips[0]!],
    ])
      await env.admin(`/admin/${kind}/${ip}/restore`);
    env.clock.advance(600_000);
    r = await look(env, checks);
    assert.deepEqual(types(r.found), [], "everything back: no condition");

    const dev = r.o.devices[0]!;
    await env.admin(`/admin/devices/${dev.id}/fail`);
    r = await look(env, checks);
    assert.ok(
      types(r.found).some((x) => x.startsWith("DeviceFailed:warning:device/")),
      types(r.found).join("\n"),
    );
  } finally {
    await env.close();
  }
});

test("slow I/O is PerformanceDegraded only once it lasts for the window", async () => {
  const env = await startEnv();
  try {
    const [pool] = await env.client.allStoragePools();
    await env.client.setSparePercentage(pool!.id, 34);
    const id = await env.client.createVolume({
      name: "busy",
      sizeInKb: 8 * GB,
      storagePoolId: pool!.id,
      thin: true,
    });
    await env.admin(`/admin/volumes/${id}/write`, { sizeGb: 1 });
    await env.admin(`/admin/volumes/${id}/workload`, { readIops: 500, writeIops: 200 });
    await env.admin("/admin/slow-io", { latencyMs: 80 });
    const checks = new ScaleioHealthChecks({
      capacityWarningPercent: 80,
      capacityCriticalPercent: 90,
      latencyMicros: 50_000,
      performanceWindow: 3,
      rebuildStuckAfterMs: 300_000,
    });
    const slow = async () =>
      (await look(env, checks)).found.filter((f) => f.type === "PerformanceDegraded");
    assert.deepEqual(await slow(), [], "one slow look is not yet a condition");
    assert.deepEqual(await slow(), []);
    const third = await slow();
    assert.ok(
      third.some((f) => f.object === "pool/default/default"),
      JSON.stringify(third),
    );
    assert.match(third[0]!.message, /latency 8\d\.\d ms over 50\.0 ms/);
    await env.admin("/admin/slow-io", { latencyMs: 0 });
    assert.deepEqual(await slow(), [], "fast again: cleared at the next look");
  } finally {
    await env.close();
  }
});
