// applyLayout against an emulator cluster that has its MDMs but no PD, pool or SDS yet:
// objects exist exactly once, a second run changes nothing, a crash between any two REST
// calls is finished by the next run, and conflicts are reported per agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { GatewayClient } from "../../../src/platforms/scaleio/gateway/client.js";
import type { StorageLayout } from "../../../src/platforms/scaleio/topology/storage.js";
import {
  ClusterOpError,
  applyLayout,
  ensureProtectionDomain,
  ensureSds,
  findSystem,
} from "../../../src/platforms/scaleio/cluster/index.js";
import { objectCounts, sdsPicture, startEnv, type Env } from "./support.js";

const IPS: Record<string, string> = { a1: "10.20.0.11", a2: "10.20.0.12", a3: "10.20.0.13" };
const agentIp = (id: string) => {
  const ip = IPS[id];
  if (!ip) throw new Error(`unknown agent ${id}`);
  return ip;
};

const LAYOUT: StorageLayout = {
  domains: [
    {
      name: "pd1",
      faultSets: ["rack1", "rack2", "rack3"],
      pools: [{ name: "fast", sparePercentage: 34 }, { name: "slow" }],
    },
  ],
  nodes: ["a1", "a2", "a3"].map((agentId, i) => ({
    agentId,
    sds: {
      protectionDomain: "pd1",
      faultSet: `rack${i + 1}`,
      pools: [
        { pool: "fast", devices: ["/dev/sdb"] },
        { pool: "slow", devices: ["/dev/sdc"] },
      ],
    },
    sdc: { protectionDomain: "pd1", storagePool: "fast" },
    problems: [],
  })),
};

const EXPECTED_COUNTS = { pd: 1, faultSet: 3, pool: 2, sds: 3, device: 6, volume: 0 };
const EXPECTED_PICTURE = [1, 2, 3].map(
  (i) => `pd1/rack${i}/sds-10.20.0.1${i}@10.20.0.1${i}: /dev/sdb->fast,/dev/sdc->slow`,
);

function fresh(): Promise<Env> {
  return startEnv({ mdmOnly: { nodes: 3, devices: ["/dev/sdb", "/dev/sdc"] } });
}

function assertFinal(env: Env): void {
  assert.deepEqual(objectCounts(env.emu), EXPECTED_COUNTS);
  assert.deepEqual(sdsPicture(env.emu), EXPECTED_PICTURE);
  const spares = [...env.emu.sys.pools.values()].map((p) => `${p.name}:${p.sparePercentage}`);
  assert.deepEqual(spares.sort(), ["fast:34", "slow:10"]);
}

const MUTATING = new Set([
  "createProtectionDomain",
  "createFaultSet",
  "createStoragePool",
  "createSds",
  "addDevice",
  "setSparePercentage",
]);

class Crash extends Error {}

/**
 * A client that dies at its n-th call: a read is not sent; a change is sent and its answer
 * lost (the worst case: the object exists but the caller never learnt its id).
 */
function crashingClient(
  real: GatewayClient,
  n: number,
): { client: GatewayClient; calls: string[] } {
  const calls: string[] = [];
  const client = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function" || typeof prop !== "string") return v;
      return async (...args: unknown[]) => {
        calls.push(prop);
        if (calls.length === n) {
          if (MUTATING.has(prop)) await (v as (...a: unknown[]) => Promise<unknown>)(...args);
          throw new Crash(`crash at call ${n} (${prop})`);
        }
        if (calls.length > n) throw new Crash("already crashed");
        return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  return { client, calls };
}

test("a 3-agent layout with 2 devices each creates every object once; a second run creates nothing", async () => {
  const env = await fresh();
  try {
    const sys = await findSystem(env.client, { name: "scaleio" });
    assert.deepEqual(objectCounts(env.emu), {
      ...EXPECTED_COUNTS,
      pd: 0,
      faultSet: 0,
      pool: 0,
      sds: 0,
      device: 0,
    });
    const first = await applyLayout(env.client, sys.id, LAYOUT, agentIp);
    assert.deepEqual(first.errors, {});
    assert.deepEqual(first.domainErrors, {});
    assert.deepEqual(Object.keys(first.agents).sort(), ["a1", "a2", "a3"]);
    for (const r of Object.values(first.agents)) {
      assert.equal(r.createdSds, true);
      assert.deepEqual(r.addedDevices, ["/dev/sdb", "/dev/sdc"]);
    }
    assertFinal(env);
    const second = await applyLayout(env.client, sys.id, LAYOUT, agentIp);
    assert.deepEqual(second.errors, {});
    for (const [id, r] of Object.entries(second.agents)) {
      assert.equal(r.createdSds, false);
      assert.deepEqual(r.addedDevices, []);
      assert.equal(r.sdsId, first.agents[id]!.sdsId);
    }
    assert.deepEqual(second.domains, first.domains);
    assertFinal(env);
  } finally {
    await env.close();
  }
});

test("a crash at every REST call of the first run: the next run finishes with exactly the expected objects", async () => {
  // How many calls a clean run makes, to crash at each one in turn.
  const probe = await fresh();
  let total: number;
  try {
    const sys = await findSystem(probe.client);
    const { client, calls } = crashingClient(probe.client, Number.MAX_SAFE_INTEGER);
    await applyLayout(client, sys.id, LAYOUT, agentIp);
    total = calls.length;
    assert.ok(total >= 15, `a clean run makes ${total} calls`);
  } finally {
    await probe.close();
  }
  for (let n = 1; n <= total; n++) {
    const env = await fresh();
    try {
      const sys = await findSystem(env.client);
      const { client, calls } = crashingClient(env.client, n);
      const crashed = await applyLayout(client, sys.id, LAYOUT, agentIp);
      const errs = [...Object.values(crashed.errors), ...Object.values(crashed.domainErrors)];
      assert.ok(errs.length > 0, `crash at call ${n} (${calls[n - 1]}) is reported`);
      assert.ok(
        errs.every((e) => e instanceof ClusterOpError && !e.permanent),
        `call ${n}: retryable`,
      );
      const again = await applyLayout(env.client, sys.id, LAYOUT, agentIp);
      assert.deepEqual(again.errors, {}, `after a crash at call ${n} (${calls[n - 1]})`);
      assert.deepEqual(again.domainErrors, {});
      assertFinal(env);
    } finally {
      await env.close();
    }
  }
});

test("a create refused because a concurrent run just made the object counts as success", async () => {
  const env = await fresh();
  try {
    const sys = await findSystem(env.client);
    // The first listing is stale (the object is created in between): the create is refused
    // with "name already in use" and the re-read finds it.
    let first = true;
    const stale = new Proxy(env.client, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "protectionDomains") return v;
        return async (id: string) => {
          if (first) {
            first = false;
            await target.createProtectionDomain("pd1");
            return [];
          }
          return target.protectionDomains(id);
        };
      },
    });
    const r = await ensureProtectionDomain(stale, sys.id, "pd1");
    assert.equal(r.created, false);
    assert.equal(r.id, [...env.emu.sys.pds.values()][0]!.id);
    assert.equal(env.emu.sys.pds.size, 1);
  } finally {
    await env.close();
  }
});

test("conflicts are per agent: a device already in another pool, an IP owned by an SDS of another PD, two agents on one IP", async () => {
  const env = await fresh();
  try {
    const c = env.client;
    const sys = await findSystem(c);
    // An operator already put a1's /dev/sdb in pool 'slow', and a2's address in PD 'other'.
    const pd1 = await c.createProtectionDomain("pd1");
    const slow = await c.createStoragePool({ name: "slow", protectionDomainId: pd1 });
    const fs1 = await c.createFaultSet({ name: "rack1", protectionDomainId: pd1 });
    await c.createSds({
      name: "by-hand",
      protectionDomainId: pd1,
      ip: IPS.a1!,
      faultSetId: fs1,
      devices: [{ path: "/dev/sdb", storagePoolId: slow }],
    });
    const other = await c.createProtectionDomain("other");
    await c.createSds({ name: "elsewhere", protectionDomainId: other, ip: IPS.a2! });
    const before = sdsPicture(env.emu);

    const r = await applyLayout(c, sys.id, LAYOUT, agentIp);
    assert.deepEqual(Object.keys(r.errors).sort(), ["a1", "a2"]);
    for (const e of Object.values(r.errors)) assert.ok(e instanceof ClusterOpError && e.permanent);
    assert.match(r.errors.a1!.message, /\/dev\/sdb is already in storage pool/);
    assert.match(r.errors.a2!.message, /10\.20\.0\.12 already belongs to SDS 'elsewhere'/);
    // a3 is unaffected; a1 and a2 were not touched (no device added to the refused SDS)
    assert.deepEqual(r.agents.a3?.addedDevices, ["/dev/sdb", "/dev/sdc"]);
    const after = sdsPicture(env.emu);
    for (const line of before) assert.ok(after.includes(line), `unchanged: ${line}`);
    assert.equal(env.emu.sys.sdss.size, 3);

    // Two agents that report one address: both refused, no SDS is created for either.
    const shared = { ...IPS, a4: "10.20.0.14", a5: "10.20.0.14" };
    env.emu.sys.installPackage("10.20.0.14", "sds");
    const twin: StorageLayout = {
      domains: LAYOUT.domains,
      nodes: ["a4", "a5"].map((agentId) => ({ ...LAYOUT.nodes[2]!, agentId })),
    };
    const t = await applyLayout(c, sys.id, twin, (id) => shared[id as keyof typeof shared]);
    assert.deepEqual(Object.keys(t.errors).sort(), ["a4", "a5"]);
    assert.match(t.errors.a4!.message, /10\.20\.0\.14 is also the address of agent\(s\) a5/);
    assert.equal(env.emu.sys.sdss.size, 3);
  } finally {
    await env.close();
  }
});

test("no quorum (two of three MDMs killed): every error is retryable; after one MDM returns the layout applies", async () => {
  const env = await fresh();
  try {
    const sys = await findSystem(env.client);
    await env.admin("/admin/mdm/10.20.0.11/kill");
    await env.admin("/admin/mdm/10.20.0.12/kill");
    await assert.rejects(
      findSystem(env.newClient()),
      (e: unknown) => e instanceof ClusterOpError && !e.permanent,
    );
    const r = await applyLayout(env.client, sys.id, LAYOUT, agentIp);
    assert.ok(r.domainErrors.pd1 && !r.domainErrors.pd1.permanent);
    assert.equal(r.domainErrors.pd1.httpStatus, 503);
    assert.deepEqual(Object.keys(r.errors).sort(), ["a1", "a2", "a3"]);
    for (const e of Object.values(r.errors)) assert.equal(e.permanent, false);
    assert.equal(env.emu.sys.pds.size, 0);
    await env.admin("/admin/mdm/10.20.0.12/restore");
    const ok = await applyLayout(env.client, sys.id, LAYOUT, agentIp);
    assert.deepEqual(ok.errors, {});
    assertFinal(env);
  } finally {
    await env.close();
  }
});

test("ensureSds refuses a name used at another IP, a changed fault set and a path asked for two pools, before any change", async () => {
  const env = await fresh();
  try {
    const c = env.client;
    const pd = await c.createProtectionDomain("pd1");
    const sp = await c.createStoragePool({ name: "fast", protectionDomainId: pd });
    const sp2 = await c.createStoragePool({ name: "slow", protectionDomainId: pd });
    const fs1 = await c.createFaultSet({ name: "rack1", protectionDomainId: pd });
    const fs2 = await c.createFaultSet({ name: "rack2", protectionDomainId: pd });
    const base = { protectionDomainId: pd, devices: [{ path: "/dev/sdb", storagePoolId: sp }] };
    const made = await ensureSds(c, { ...base, name: "n1", ip: IPS.a1!, faultSetId: fs1 });
    assert.deepEqual([made.createdSds, made.addedDevices], [true, ["/dev/sdb"]]);
    const isPermanent = (re: RegExp) => (e: unknown) =>
      e instanceof ClusterOpError && e.permanent && re.test(e.message);
    await assert.rejects(
      ensureSds(c, { ...base, name: "n1", ip: IPS.a2! }),
      isPermanent(/name 'n1' is already used by SDS .* at 10\.20\.0\.11/),
    );
    await assert.rejects(
      ensureSds(c, { ...base, name: "n1", ip: IPS.a1!, faultSetId: fs2 }),
      isPermanent(/fault set cannot change/),
    );
    await assert.rejects(
      ensureSds(c, {
        protectionDomainId: pd,
        name: "n3",
        ip: IPS.a3!,
        devices: [
          { path: "/dev/sdb", storagePoolId: sp },
          { path: "/dev/sdb", storagePoolId: sp2 },
        ],
      }),
      isPermanent(/asked for two pools/),
    );
    assert.equal(env.emu.sys.sdss.size, 1);
    assert.equal(env.emu.sys.devices.size, 1);
  } finally {
    await env.close();
  }
});

test("a domain that cannot be prepared fails only its own agents", async () => {
  const env = await fresh();
  try {
    const sys = await findSystem(env.client);
    const layout: StorageLayout = {
      domains: [
        { name: "good", faultSets: [], pools: [{ name: "p" }] },
        { name: "bad", faultSets: [], pools: [{ name: "p", sparePercentage: 150 }] },
      ],
      nodes: [
        {
          agentId: "a1",
          sds: { protectionDomain: "good", pools: [{ pool: "p", devices: ["/dev/sdb"] }] },
          sdc: { protectionDomain: "good", storagePool: "p" },
          problems: [],
        },
        {
          agentId: "a2",
          sds: { protectionDomain: "bad", pools: [{ pool: "p", devices: ["/dev/sdb"] }] },
          sdc: { protectionDomain: "bad", storagePool: "p" },
          problems: [],
        },
      ],
    };
    const r = await applyLayout(env.client, sys.id, layout, agentIp);
    assert.ok(r.domainErrors.bad?.permanent);
    assert.match(r.domainErrors.bad.message, /spare percentage 150/);
    assert.deepEqual(Object.keys(r.errors), ["a2"]);
    assert.ok(r.errors.a2!.permanent);
    assert.match(r.errors.a2!.message, /protection domain 'bad' is not ready/);
    assert.deepEqual(r.agents.a1?.addedDevices, ["/dev/sdb"]);
  } finally {
    await env.close();
  }
});
