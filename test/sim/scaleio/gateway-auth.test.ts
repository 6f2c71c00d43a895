// Reference 8.7-8.9 and 4.1: login, tokens, version, the System object, HTTPS with a CA file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, startTestEmu } from "./helpers.js";

const UNAUTH = { message: "Unauthorized", httpStatusCode: 401, errorCode: 0 };

test("HTTPS gateway: certificate trusted through the written CA file; login returns a quoted token", async () => {
  const t = await startTestEmu({ https: true });
  try {
    assert.match(t.emu.gatewayUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await t.api.raw("GET", "/api/login", { auth: `admin:${PASSWORD}` });
    assert.equal(r.status, 200);
    assert.ok(r.text.startsWith('"') && r.text.endsWith('"'), "token is a JSON string");
    assert.equal(typeof r.body, "string");
  } finally {
    await t.close();
  }
});

test("8.7: missing or wrong credentials give 401 with the documented body; the password never leaks", async () => {
  const t = await startTestEmu();
  try {
    for (const auth of [null, "admin:wrong", "nobody:" + PASSWORD, "garbage"]) {
      const r = await t.api.raw("GET", "/api/login", { auth });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, UNAUTH);
    }
    await t.api.login();
    const everything = await t.api.raw("GET", "/api/instances");
    const users = await t.api.raw(
      "GET",
      `/api/instances/System::${t.emu.sys.id}/relationships/User`,
    );
    assert.ok(!everything.text.includes(PASSWORD) && !users.text.includes(PASSWORD));
  } finally {
    await t.close();
  }
});

test("8.8: token as Basic password with any or empty user; logout, unknown and expired tokens give 401; re-login fixes it", async () => {
  const t = await startTestEmu();
  try {
    const token = await t.api.login();
    for (const user of ["", "admin", "whoever"]) {
      const r = await t.api.raw("GET", "/api/types/System/instances", { auth: `${user}:${token}` });
      assert.equal(r.status, 200, `user name ${JSON.stringify(user)}`);
    }
    const unknown = await t.api.raw("GET", "/api/types/System/instances", { auth: ":not-a-token" });
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, UNAUTH);
    const none = await t.api.raw("GET", "/api/types/System/instances", { auth: null });
    assert.equal(none.status, 401);
    // idle expiry (10 minutes)
    t.clock.advance(11 * 60_000);
    const expired = await t.api.raw("GET", "/api/types/System/instances");
    assert.equal(expired.status, 401);
    assert.deepEqual(expired.body, UNAUTH);
    await t.api.login();
    assert.equal((await t.api.raw("GET", "/api/types/System/instances")).status, 200);
    // logout invalidates
    assert.equal((await t.api.raw("GET", "/api/logout")).status, 200);
    assert.equal((await t.api.raw("GET", "/api/types/System/instances")).status, 401);
  } finally {
    await t.close();
  }
});

test("8.9: version is a quoted string (2.0 by default, configurable); System follows rename with 80/90 thresholds", async () => {
  const t = await startTestEmu();
  const t3 = await startTestEmu({ apiVersion: "3.0" });
  try {
    const v = await t.api.raw("GET", "/api/version");
    assert.equal(v.text, '"2.0"');
    assert.equal((await t3.api.raw("GET", "/api/version")).text, '"3.0"');
    await t.api.login();
    const systems = await t.api.get<Record<string, unknown>[]>("/api/types/System/instances");
    assert.equal(systems.length, 1);
    assert.equal(systems[0]!.name, "scaleio");
    assert.equal(systems[0]!.capacityAlertHighThresholdPercent, 80);
    assert.equal(systems[0]!.capacityAlertCriticalThresholdPercent, 90);
    assert.match(String(systems[0]!.id), /^[0-9a-f]{16}$/);
    t.emu.sys.rename("renamed");
    const again = await t.api.get<Record<string, unknown>[]>("/api/types/System/instances");
    assert.equal(again[0]!.name, "renamed");
  } finally {
    await t.close();
    await t3.close();
  }
});
