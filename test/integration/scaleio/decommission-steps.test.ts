// The decommission's cluster-side steps against the ScaleIO emulator (the framework's own
// gateway client; time moves only by the admin knob): the refusal figures read from the
// gateway; a graceful removal followed while the data moves, the SDS listed until gone and the
// pool shrunk; the MDM's own refusal left to an operator; the SDC kept while a volume is
// mapped to it and removed once nothing is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nthIp } from "../../../sim/scaleio/model/bootstrap.js";
import { PermanentStepError, type StepContext } from "../../../src/framework/plan/types.js";
import type { GatewayClient } from "../../../src/platforms/scaleio/gateway/client.js";
import {
  poolRoom,
  readDecommissionFacts,
  removeSdc,
  removeSdsGracefully,
  type DecommissionPorts,
  type DecommissionTarget,
} from "../../../src/platforms/scaleio/lifecycle/decommission.js";
import { FIRST_IP, PASSWORD, startEnv, type Env } from "./support.js";

const GB = 1048576;

function ctx(said: string[] = []): StepContext {
  return {
    planId: "decommission",
    stepId: "s",
    signal: new AbortController().signal,
    attempt: 1,
    progress: (m) => said.push(m),
  };
}

/** The client, with emulated time moving a minute at each look at the SDS list. */
function ticking(env: Env): GatewayClient {
  const c = env.client;
  return new Proxy(c, {
    get(target, prop, receiver) {
      if (prop === "allSds")
        return async () => {
          await env.admin("/admin/time", { advanceSeconds: 60 });
          return target.allSds();
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

function ports(client: GatewayClient, node: DecommissionPorts["node"]): DecommissionPorts {
  return {
    gateway: () => client,
    system: { name: "scaleio" },
    node,
    release: async () => {},
    finished: async () => {},
    added: (_agentId, among) => among,
    pollMs: 1,
  };
}

const target = (i: number, removeSdc = false): DecommissionTarget => ({
  agentId: `S${i}`,
  hostname: `node-${i}`,
  ip: nthIp(FIRST_IP, i),
  removeSdc,
});

test("graceful removal: figures read from the gateway, the data followed while the SDS is listed, then gone and the pool smaller", async () => {
  const env = await startEnv({ bootstrap: { password: PASSWORD, sdsCount: 4 } });
  try {
    const pool = (await env.client.allStoragePools())[0]!;
    await env.client.createVolume({
      name: "data",
      sizeInKb: 40 * GB,
      storagePoolId: pool.id,
      thin: false,
    });
    const t = target(3);
    const facts = await readDecommissionFacts(env.client, { name: "scaleio" }, t.ip, () => 34);
    assert.equal(facts.mdmRole, undefined, "the fourth node holds no MDM");
    assert.equal(facts.pools.length, 1);
    const p = facts.pools[0]!;
    assert.equal(p.maxKb, 400 * GB);
    assert.equal(p.sdsMaxKb, 100 * GB);
    assert.equal(p.faultUnitsAfter, 3);
    assert.equal(p.inUseKb, 80 * GB, "both copies of the thick volume");
    assert.ok(p.sdsInUseKb > 0 && p.sdsInUseKb < p.inUseKb, `${p.sdsInUseKb}`);
    assert.deepEqual(poolRoom(p).problems, []);
    // The MDM members are found by address.
    const mdm = await readDecommissionFacts(env.client, { name: "scaleio" }, FIRST_IP, () => 34);
    assert.equal(mdm.mdmRole, "master");

    const before = env.emu.sys.poolCapacity(pool.id);
    const said: string[] = [];
    await removeSdsGracefully(
      t,
      ports(ticking(env), async () => ({})),
      ctx(said),
    );
    assert.ok(
      said.some((m) =>
        /^moving data off SDS \S+: [\d.]+ GB left \(\d+ %\); still listed \(RemovalInProgress\)$/.test(
          m,
        ),
      ),
      said.join("\n"),
    );
    assert.match(said.at(-1)!, /removed; its data moved/);
    assert.equal(await env.client.sdsByIp(t.ip), undefined, "gone");
    const after = env.emu.sys.poolCapacity(pool.id);
    assert.equal(after.maxCapacityInKb, before.maxCapacityInKb - 100 * GB);
    assert.equal(after.capacityInUseInKb, before.capacityInUseInKb);
    assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
  } finally {
    await env.close();
  }
});

test("the MDM refuses a removal the rest of the pool cannot take: the step waits for an operator", async () => {
  const env = await startEnv({ bootstrap: { password: PASSWORD, sdsCount: 4 } });
  try {
    const pool = (await env.client.allStoragePools())[0]!;
    await env.admin(`/admin/pools/${pool.id}/fill`, { percent: 90 });
    const t = target(3);
    const facts = await readDecommissionFacts(env.client, { name: "scaleio" }, t.ip, () => 34);
    assert.equal(poolRoom(facts.pools[0]!).problems.length, 1, "refused by our arithmetic too");
    await assert.rejects(
      removeSdsGracefully(
        t,
        ports(env.client, async () => ({})),
        ctx(),
      ),
      (e: unknown) =>
        e instanceof PermanentStepError && /the MDM refused to remove SDS/.test(e.message),
    );
    assert.ok(await env.client.sdsByIp(t.ip), "still there");
  } finally {
    await env.close();
  }
});

test("the SDC stays while a volume is mapped to it (the step names it); once unmapped it goes", async () => {
  const env = await startEnv({ bootstrap: { password: PASSWORD, sdsCount: 4, sdcCount: 4 } });
  try {
    const t = target(3, true);
    const pool = (await env.client.allStoragePools())[0]!;
    const vol = await env.client.createVolume({
      name: "mapped",
      sizeInKb: 8 * GB,
      storagePoolId: pool.id,
      thin: true,
    });
    const sdc = (await env.client.allSdcs()).find((c) => c.sdcIp === t.ip)!;
    await env.client.mapVolume(vol, sdc.id);
    const nodeSteps: string[] = [];
    const node: DecommissionPorts["node"] = async (_agentId, kind, params) => {
      nodeSteps.push(`${kind} ${JSON.stringify(params)}`);
      // What the executor's scaleio.remove-packages does to the emulated node.
      if (kind === "scaleio.remove-packages")
        for (const c of (params as { components: string[] }).components)
          env.emu.sys.removePackage(t.ip, c as "sdc");
      return {};
    };
    await assert.rejects(
      removeSdc(t, ports(env.client, node), ctx()),
      (e: unknown) =>
        e instanceof PermanentStepError &&
        /the SDC of node-3 has 1 volume mapped \(mapped\): unmap it first/.test(e.message),
    );
    assert.deepEqual(nodeSteps, [], "nothing removed while mapped");
    assert.ok((await env.client.allSdcs()).some((c) => c.sdcIp === t.ip));

    await env.client.unmapVolume(vol, sdc.id);
    await removeSdc(t, ports(env.client, node), ctx());
    assert.deepEqual(nodeSteps, ['scaleio.remove-packages {"components":["sdc"]}']);
    assert.ok(!(await env.client.allSdcs()).some((c) => c.sdcIp === t.ip), "forgotten");
    assert.equal(env.emu.sys.nodes.get(t.ip)?.packages.has("sdc"), false);

    // An SDC the MDM still lists after its package is gone is removed through the gateway.
    const other = target(2, true);
    await removeSdc(
      other,
      ports(env.client, async () => ({})),
      ctx(),
    );
    assert.ok(!(await env.client.allSdcs()).some((c) => c.sdcIp === other.ip));
  } finally {
    await env.close();
  }
});
