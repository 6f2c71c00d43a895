// The control endpoint's rebuild injection: a backward rebuild of the asked size in the SDS's
// pool shows in the pool's statistics, runs at the rebuild speed in emulated time and ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestEmu } from "./helpers.js";

async function admin(controlUrl: string, path: string, body: unknown = {}) {
  const r = await fetch(`${controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test("an injected rebuild shows in the pool's rebuild counters until emulated time runs it out", async () => {
  const t = await startTestEmu();
  try {
    const sys = t.emu.sys;
    const sds = [...sys.sdss.values()][0]!;
    const pool = [...sys.pools.values()][0]!;
    const rebuild = () => sys.jobTotals(new Set([pool.id]), "bckRebuild").total;
    assert.equal(rebuild(), 0);
    const r = await admin(t.emu.controlUrl, `/admin/sds/${sds.ipList[0]!.ip}/rebuild`, {
      sizeGb: 1,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.rebuildKb, 1024 * 1024);
    assert.ok(rebuild() > 0, "the pool is rebuilding");
    t.clock.advance(3600_000);
    sys.tick();
    assert.equal(rebuild(), 0, "over once its data is moved");
    assert.equal(
      (await admin(t.emu.controlUrl, "/admin/sds/nope/rebuild", { sizeGb: 1 })).status,
      500,
    );
    assert.equal((await admin(t.emu.controlUrl, `/admin/sds/${sds.id}/rebuild`, {})).status, 400);
  } finally {
    await t.close();
  }
});
