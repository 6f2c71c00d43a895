// The framework's REST client against the emulator over HTTPS (reference section 4): login,
// token re-use and expiry, typed errors with the gateway's errorCode, certificate checks,
// and every read and create call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { ClusterOpError, findSystem } from "../../../src/platforms/scaleio/cluster/index.js";
import { Secret } from "../../../src/common/secret.js";
import { GatewayError } from "../../../src/platforms/scaleio/gateway/client.js";
import { devicePath, sdsIps } from "../../../src/platforms/scaleio/gateway/types.js";
import { PASSWORD, startEnv } from "./support.js";

function countLogins(c: { login: () => Promise<string> }): { n: number } {
  const counter = { n: 0 };
  const orig = c.login.bind(c);
  c.login = () => {
    counter.n++;
    return orig();
  };
  return counter;
}

test("login over HTTPS with the CA; the token is re-used; expiry (idle 10 min) leads to one re-login", async () => {
  const env = await startEnv();
  try {
    const c = env.client;
    const logins = countLogins(c);
    assert.equal(await c.version(), "2.0");
    const systems = await c.systems();
    assert.equal(systems.length, 1);
    assert.equal(systems[0]!.name, "scaleio");
    await c.protectionDomains(systems[0]!.id);
    await c.allSds();
    assert.equal(logins.n, 1, "one login for several calls");
    env.clock.advance(11 * 60_000);
    assert.equal((await c.systems()).length, 1, "a call after expiry succeeds");
    assert.equal(logins.n, 2, "exactly one re-login after expiry");
    // logout invalidates the token; the next call logs in again by itself
    await c.logout();
    assert.equal((await c.systems()).length, 1);
    assert.equal(logins.n, 3);
  } finally {
    await env.close();
  }
});

test("a wrong password gives GatewayError 401 with the gateway's message; the password never appears", async () => {
  const env = await startEnv();
  try {
    const wrong = "Wr0ng-pa55word";
    const c = env.newClient({ password: new Secret(wrong, "test") });
    const err = await c.systems().then(
      () => assert.fail("must fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayError);
    assert.equal(err.httpStatus, 401);
    assert.equal(err.errorCode, 0);
    assert.match(err.message, /Unauthorized/);
    for (const text of [err.message, String(err.stack), JSON.stringify(err)]) {
      assert.ok(!text.includes(wrong) && !text.includes(PASSWORD));
    }
  } finally {
    await env.close();
  }
});

test("certificate verification: fails without the CA, works with it, and is skipped only with insecure: true", async () => {
  const env = await startEnv();
  try {
    const noCa = env.newClient({ ca: undefined });
    const err = await noCa.version().then(
      () => assert.fail("an unknown CA must be refused"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayError);
    assert.equal(err.httpStatus, 0);
    assert.match(err.message, /CERT|SELF_SIGNED|verify|certificate/i);
    assert.ok(!err.message.includes(PASSWORD));
    // insecure: false is the same as not saying it
    await assert.rejects(env.newClient({ ca: undefined, insecure: false }).systems(), GatewayError);
    assert.equal(await env.newClient({ ca: undefined, insecure: true }).version(), "2.0");
    assert.equal(await env.client.version(), "2.0");
  } finally {
    await env.close();
  }
});

test("errors keep the gateway's httpStatus and errorCode and never contain the password", async () => {
  const env = await startEnv();
  try {
    const c = env.client;
    const expectErr = async (p: Promise<unknown>, status: number, code: number, text: RegExp) => {
      const e = await p.then(
        () => assert.fail("must fail"),
        (x: unknown) => x,
      );
      assert.ok(e instanceof GatewayError, String(e));
      assert.equal(e.httpStatus, status);
      assert.equal(e.errorCode, code);
      assert.match(e.message, text);
      assert.ok(!e.message.includes(PASSWORD));
    };
    await expectErr(c.volume("00000000deadbeef"), 500, 79, /Could not find the volume/);
    await expectErr(c.createProtectionDomain("default"), 500, 6, /already in use/);
    await expectErr(
      c.createSds({
        name: "dup",
        protectionDomainId: (await c.allProtectionDomains())[0]!.id,
        ip: "10.20.0.11",
      }),
      500,
      6,
      /SDS IP already in use/,
    );
  } finally {
    await env.close();
  }
});

test("every read and create call of the client against a ready cluster", async () => {
  const env = await startEnv({ bootstrap: { password: PASSWORD, sdcCount: 1 } });
  try {
    const c = env.client;
    const [system] = await c.systems();
    assert.ok(system && /^[0-9a-f]{16}$/.test(system.id));
    assert.equal((await c.system(system.id)).id, system.id);
    assert.equal(system.mdmMode, "Cluster");
    const [pd] = await c.protectionDomains(system.id);
    assert.equal(pd!.name, "default");
    assert.equal((await c.protectionDomain(pd!.id)).name, "default");
    assert.equal((await c.allProtectionDomains()).length, 1);
    const [pool] = await c.storagePools(pd!.id);
    assert.equal(pool!.name, "default");
    assert.equal((await c.storagePool(pool!.id)).sparePercentage, 10);
    assert.equal((await c.allStoragePools()).length, 1);
    const sdsList = await c.sdsList(pd!.id);
    assert.equal(sdsList.length, 3);
    assert.equal((await c.allSds()).length, 3);
    const first = sdsList.find((s) => sdsIps(s).includes("10.20.0.11"))!;
    assert.equal((await c.sds(first.id)).name, first.name);
    assert.equal((await c.sdsByIp("10.20.0.11"))?.id, first.id);
    assert.equal(await c.sdsByIp("10.99.0.1"), undefined);
    const devs = await c.devicesOfSds(first.id);
    assert.deepEqual(devs.map(devicePath), ["/dev/sdb"]);
    assert.equal((await c.devicesOfPool(pool!.id)).length, 3);
    assert.equal((await c.allDevices()).length, 3);
    const sdcs = await c.sdcs(system.id);
    assert.equal(sdcs.length, 1);
    assert.equal((await c.allSdcs()).length, 1);
    assert.deepEqual(await c.volumes(), []);
    assert.ok(Array.isArray(await c.alerts()));
    const st = await c.statistics("StoragePool", pool!.id);
    assert.equal(st.maxCapacityInKb, 300 * 1024 * 1024);
    const sel = await c.selectedStatistics("StoragePool", [pool!.id], ["capacityLimitInKb"]);
    assert.deepEqual(sel, { [pool!.id]: { capacityLimitInKb: 300 * 1024 * 1024 } });
    const selAll = await c.selectedStatistics("StoragePool", "all", ["spareCapacityInKb"]);
    assert.deepEqual(Object.keys(selAll), [pool!.id]);

    // creates
    const pd2 = await c.createProtectionDomain("pd2");
    assert.match(pd2, /^[0-9a-f]{16}$/);
    const fs = await c.createFaultSet({ name: "rack1", protectionDomainId: pd2 });
    assert.deepEqual(
      (await c.faultSetsOf(pd2)).map((f) => [f.id, f.name]),
      [[fs, "rack1"]],
    );
    assert.equal((await c.faultSetsOf(pd!.id)).length, 0);
    assert.equal((await c.faultSets()).length, 1);
    const sp2 = await c.createStoragePool({
      name: "gold",
      protectionDomainId: pd2,
      sparePercentage: 34,
    });
    assert.equal((await c.storagePool(sp2)).sparePercentage, 34);
    await c.setSparePercentage(sp2, 20);
    assert.equal((await c.storagePool(sp2)).sparePercentage, 20);
    env.emu.sys.installPackage("10.20.0.21", "sds");
    const sds = await c.createSds({
      name: "sds-new",
      protectionDomainId: pd2,
      ip: "10.20.0.21",
      faultSetId: fs,
      devices: [{ path: "/dev/sdc", storagePoolId: sp2 }],
    });
    const created = await c.sds(sds);
    assert.deepEqual(sdsIps(created), ["10.20.0.21"]);
    assert.equal(created.faultSetId, fs);
    const dev = await c.addDevice({ path: "/dev/sdd", storagePoolId: sp2, sdsId: sds });
    assert.deepEqual((await c.devicesOfSds(sds)).map(devicePath).sort(), ["/dev/sdc", "/dev/sdd"]);
    assert.ok((await c.allDevices()).some((d) => d.id === dev));

    const vol = await c.createVolume({
      name: "it-vol",
      sizeInKb: 4 * 1024 * 1024,
      storagePoolId: pool!.id,
      thin: true,
    });
    const v = await c.volume(vol);
    assert.equal(v.sizeInKb, 8 * 1024 * 1024, "rounded up to 8 GB");
    assert.equal(v.volumeType, "ThinProvisioned");
    await c.mapVolume(vol, sdcs[0]!.id);
    assert.equal((await c.volume(vol)).mappedSdcInfo?.[0]?.sdcId, sdcs[0]!.id);
    await c.unmapVolume(vol, sdcs[0]!.id);
    assert.ok(!(await c.volume(vol)).mappedSdcInfo?.length);
    await c.removeVolume(vol);
    assert.deepEqual(await c.volumes(), []);
    await c.removeSds(sds);
  } finally {
    await env.close();
  }
});

test("an unreachable or silent gateway gives GatewayError 0 (retryable for the cluster steps) within the timeout", async () => {
  const env = await startEnv();
  // A listener that accepts connections and never answers (not even the TLS handshake).
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  try {
    const port = (silent.address() as AddressInfo).port;
    const hang = env.newClient({ url: `https://127.0.0.1:${port}`, timeoutMs: 300 });
    const started = Date.now();
    const e1 = await hang.systems().then(
      () => assert.fail("must time out"),
      (e: unknown) => e,
    );
    assert.ok(e1 instanceof GatewayError);
    assert.equal(e1.httpStatus, 0);
    assert.match(e1.message, /timed out after 300 ms/);
    // bounded by the configured timeout, not undici's 10 s connect default
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);

    const gone = env.newClient({ url: `https://127.0.0.1:${closedPort}` });
    const e2 = await findSystem(gone).then(
      () => assert.fail("must fail"),
      (e: unknown) => e,
    );
    assert.ok(e2 instanceof ClusterOpError);
    assert.equal(e2.permanent, false);
    assert.equal(e2.httpStatus, 0);
    assert.match(e2.message, /ECONNREFUSED/);
    assert.ok(!e2.message.includes(PASSWORD));
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await env.close();
  }
});
