// The admin endpoint's time knob on both kinds of clock, and its error shape on bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ScaledClock } from "../../../sim/scaleio/model/clock.js";
import { startEmulator } from "../../../sim/scaleio/emulator.js";
import { startTestEmu } from "./helpers.js";

async function post(url: string, body: unknown) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test("time scale on a wall clock; advance on both; refusals in the error shape", async () => {
  const clock = new ScaledClock(1);
  const emu = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    http: true,
    clock,
    bootstrap: {},
  });
  const manual = await startTestEmu();
  try {
    assert.equal((await post(`${emu.controlUrl}/admin/time`, { scale: 120 })).status, 200);
    assert.equal(clock.getFactor(), 120);
    const before = clock.now();
    const r = await post(`${emu.controlUrl}/admin/time`, { advanceSeconds: 3600 });
    assert.equal(r.status, 200);
    assert.ok(clock.now() - before >= 3600_000);
    const refused = await post(`${manual.emu.controlUrl}/admin/time`, { scale: 10 });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.httpStatusCode, 400);
    for (const bad of [{ scale: -1 }, { advanceSeconds: "soon" }, "{oops"]) {
      const x = await post(`${emu.controlUrl}/admin/time`, bad);
      assert.equal(x.status, 400, JSON.stringify(bad));
      assert.equal(typeof x.body.message, "string");
    }
    const unknown = await post(`${emu.controlUrl}/admin/sds/nope/kill`, {});
    assert.equal(unknown.status, 500);
    assert.match(String(unknown.body.message), /Could not find the SDS/);
  } finally {
    await emu.close();
    await manual.close();
  }
});
