// The targeted read an upgrade's SDS step waits on, against the emulated gateway: its
// protection domain's SDSs with their maintenance and connection, and every pool's rebuild,
// the same figures a whole observation shows for them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readDomain } from "../../../src/platforms/scaleio/observe/domain.js";
import { readObserved } from "../../../src/platforms/scaleio/observe/read.js";
import { startEnv } from "./support.js";

test("a domain read shows an SDS in maintenance at once, and a rebuild as a whole look does", async () => {
  const env = await startEnv(); // 3 SDSs in one domain, one pool
  try {
    const [pool] = await env.client.allStoragePools();
    await env.client.setSparePercentage(pool!.id, 34);
    await env.admin(`/admin/pools/${pool!.id}/write`, { sizeGb: 20 });
    const pd = pool!.protectionDomainId;
    let d = await readDomain(env.client, pd, () => env.clock.now());
    assert.equal(d.protectionDomainId, pd);
    assert.equal(d.sds.length, 3);
    assert.ok(d.sds.every((s) => s.connected && s.maintenance === "NoMaintenance"));
    assert.deepEqual(
      d.pools.map((p) => [p.id, p.protectionDomainId, p.rebuildRemainingKb]),
      [[pool!.id, pd, 0]],
    );
    assert.ok(d.pools[0]!.protectionDomainName, "the pool's domain by name (for the step's words)");

    const first = d.sds[0]!;
    await env.client.call(
      "POST",
      `/api/instances/Sds::${first.id}/action/enterMaintenanceMode`,
      {},
    );
    d = await readDomain(env.client, pd);
    assert.equal(d.sds.find((s) => s.id === first.id)!.maintenance, "InMaintenance");
    await env.client.call("POST", `/api/instances/Sds::${first.id}/action/exitMaintenanceMode`, {});

    await env.admin(`/admin/sds/${d.sds[1]!.ips[0]}/rebuild`, { sizeGb: 4 });
    d = await readDomain(env.client, pd);
    const whole = await readObserved(env.client);
    assert.ok(d.pools[0]!.rebuildRemainingKb > 0, "the rebuild shows");
    assert.equal(d.pools[0]!.rebuildRemainingKb, whole.pools[0]!.rebuildRemainingKb);
    assert.equal(d.pools[0]!.degradedKb, whole.pools[0]!.degradedKb);
    assert.equal(d.pools[0]!.rebalanceRemainingKb, whole.pools[0]!.rebalanceRemainingKb);
  } finally {
    await env.close();
  }
});
