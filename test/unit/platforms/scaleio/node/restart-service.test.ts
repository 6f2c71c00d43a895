// scaleio.restart-service against the emulator's node side: a killed SDS comes back through
// its systemd unit (RHEL node), a killed SDC through scini after its MDM addresses are
// re-applied; an SDC without addresses and unknown components are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";

test("a killed SDS is restarted through its service; an SDC gets its MDMs back first", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.31";
    await step(n, ip, "scaleio.install-package", { component: "sds", url: n.rpmUrl("sds") });
    const sys = n.emu.sys;
    sys.setComponentAlive(ip, "sds", false);
    assert.equal(sys.nodes.get(ip)!.sdsAlive, false);
    const r = data<{ service: string; how: string }>(
      await step(n, ip, "scaleio.restart-service", { component: "sds" }),
    );
    assert.equal(r.service, "sds");
    assert.equal(r.how, "systemctl restart sds");
    assert.equal(sys.nodes.get(ip)!.sdsAlive, true, "the SDS runs again");

    const mgr = "10.50.0.11";
    await step(n, ip, "scaleio.install-package", {
      component: "sdc",
      url: n.rpmUrl("sdc"),
      mdmIps: [mgr],
    });
    sys.setComponentAlive(ip, "sdc", false);
    const s = data<{ service: string; how: string }>(
      await step(n, ip, "scaleio.restart-service", { component: "sdc", mdmIps: [mgr] }),
    );
    assert.equal(s.service, "scini");
    assert.equal(sys.nodes.get(ip)!.sdcAlive, true);
    assert.ok(sys.nodes.get(ip)!.sdcMdmIps.includes(mgr));

    const refused = await step(n, ip, "scaleio.restart-service", { component: "sdc" });
    assert.equal((refused.result as { permanent?: boolean }).permanent, true);
    const bad = await step(n, ip, "scaleio.restart-service", { component: "sshd" });
    assert.equal((bad.result as { permanent?: boolean }).permanent, true);
  } finally {
    await n.close();
  }
});
