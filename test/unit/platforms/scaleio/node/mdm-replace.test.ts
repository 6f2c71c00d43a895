// The replacement's node steps against the emulator's node side (real child processes for
// rpm, scli, drv_cfg and service): a lost manager replaced (reference 6.7), again without
// change; an SDC and the gateway pointed at the new managers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startEmuNodes, type EmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";
import { withMdmAddresses } from "../../../../../src/platforms/scaleio/node/mdm-addresses.js";

const PW = "Pw-$(reboot);`id`|x";
const IPS = ["10.41.0.1", "10.41.0.2", "10.41.0.3", "10.41.0.4", "10.41.0.5"] as const;

async function threeNodeCluster(n: EmuNodes) {
  for (const [i, ip] of IPS.slice(0, 3).entries()) {
    await step(n, ip, "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: i < 2 ? "manager" : "tiebreaker",
    });
  }
  const built = await step(
    n,
    IPS[0],
    "scaleio.mdm-cluster",
    {
      primary: { ip: IPS[0], name: "mdm1" },
      secondaries: [{ ip: IPS[1], name: "mdm2" }],
      tiebreakers: [{ ip: IPS[2], name: "tb1" }],
      systemName: "scaleio",
    },
    { password: PW },
  );
  assert.equal(built.result.ok, true, JSON.stringify(built.result));
}

const REPLACE = {
  failed: { ip: IPS[1], name: "mdm2" },
  replacement: { ip: IPS[3], name: "mdm3" },
  role: "manager",
};

test("a lost manager is replaced by a standby on another node; run again, nothing changes; the password is in no output", async () => {
  const n = await startEmuNodes();
  try {
    await threeNodeCluster(n);
    n.emu.sys.setComponentAlive(IPS[1], "mdm", false);
    assert.equal(n.emu.sys.cluster.clusterState(), "ClusteredDegraded");
    await step(n, IPS[3], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    const r = await step(n, IPS[0], "scaleio.mdm-replace", REPLACE, { password: PW });
    assert.equal(r.result.ok, true, JSON.stringify(r.result));
    const d = data<{ state: string; actions: string[]; changed: boolean }>(r);
    assert.equal(d.state, "Normal");
    assert.deepEqual(d.actions, [
      `add standby mdm3 (${IPS[3]})`,
      "replace mdm2 with mdm3 in the cluster",
      "remove standby mdm2",
    ]);
    assert.ok(!JSON.stringify(r).includes(PW));
    const c = n.emu.sys.cluster;
    assert.equal(c.clusterState(), "ClusteredNormal");
    assert.deepEqual(c.members.map((m) => `${m.name}:${m.role}`).sort(), [
      "mdm1:master",
      "mdm3:slave",
      "tb1:tb",
    ]);
    const again = await step(n, IPS[0], "scaleio.mdm-replace", REPLACE, { password: PW });
    assert.equal(data(again).changed, false);
  } finally {
    await n.close();
  }
});

test("a lost master: the slave took over, the replacement joins as slave; a tie-breaker's place goes to a tie-breaker", async () => {
  const n = await startEmuNodes();
  try {
    await threeNodeCluster(n);
    n.emu.sys.setComponentAlive(IPS[0], "mdm", false);
    n.emu.sys.cluster.settle();
    await step(n, IPS[3], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    const r = await step(
      n,
      IPS[1],
      "scaleio.mdm-replace",
      {
        failed: { ip: IPS[0], name: "mdm1" },
        replacement: { ip: IPS[3], name: "mdm3" },
        role: "manager",
      },
      { password: PW },
    );
    assert.equal(r.result.ok, true, JSON.stringify(r.result));
    assert.deepEqual(n.emu.sys.cluster.members.map((m) => `${m.name}:${m.role}`).sort(), [
      "mdm2:master",
      "mdm3:slave",
      "tb1:tb",
    ]);
    // the tie-breaker now
    n.emu.sys.setComponentAlive(IPS[2], "mdm", false);
    await step(n, IPS[4], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "tiebreaker",
    });
    const tb = await step(
      n,
      IPS[1],
      "scaleio.mdm-replace",
      {
        failed: { ip: IPS[2], name: "tb1" },
        replacement: { ip: IPS[4], name: "tb2" },
        role: "tiebreaker",
      },
      { password: PW },
    );
    assert.equal(tb.result.ok, true, JSON.stringify(tb.result));
    assert.deepEqual(n.emu.sys.cluster.members.map((m) => `${m.name}:${m.role}`).sort(), [
      "mdm2:master",
      "mdm3:slave",
      "tb2:tb",
    ]);
    assert.equal(n.emu.sys.cluster.clusterState(), "ClusteredNormal");
  } finally {
    await n.close();
  }
});

test("a forced replacement of a healthy master moves mastership to the slave first", async () => {
  const n = await startEmuNodes();
  try {
    await threeNodeCluster(n);
    await step(n, IPS[3], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    const r = await step(
      n,
      IPS[1],
      "scaleio.mdm-replace",
      {
        failed: { ip: IPS[0], name: "mdm1" },
        replacement: { ip: IPS[3], name: "mdm3" },
        role: "manager",
      },
      { password: PW },
    );
    assert.equal(r.result.ok, true, JSON.stringify(r.result));
    assert.deepEqual(data<{ actions: string[] }>(r).actions, [
      `add standby mdm3 (${IPS[3]})`,
      "move mastership from mdm1 to mdm2",
      "replace mdm1 with mdm3 in the cluster",
      "remove standby mdm1",
    ]);
    assert.deepEqual(n.emu.sys.cluster.members.map((m) => `${m.name}:${m.role}`).sort(), [
      "mdm2:master",
      "mdm3:slave",
      "tb1:tb",
    ]);
    assert.equal(n.emu.sys.cluster.clusterState(), "ClusteredNormal");
  } finally {
    await n.close();
  }
});

test("the SDC and the gateway are pointed at the new managers, once", async () => {
  const n = await startEmuNodes();
  try {
    await threeNodeCluster(n);
    const client = IPS[4];
    await step(n, client, "scaleio.install-package", {
      component: "sdc",
      url: n.rpmUrl("sdc"),
      mdmIps: [IPS[0], IPS[1]],
    });
    const sdc = await step(n, client, "scaleio.sdc-mdms", { mdmIps: [IPS[0], IPS[3]] });
    assert.equal(sdc.result.ok, true, JSON.stringify(sdc.result));
    assert.equal(data(sdc).changed, true);
    assert.equal(
      readFileSync(join(n.rootOf(client), "bin/emc/scaleio/drv_cfg.txt"), "utf8"),
      `mdm ${IPS[0]},${IPS[3]}\n`,
    );
    assert.deepEqual(n.emu.sys.nodes.get(client)!.sdcMdmIps, [IPS[0], IPS[3]]);
    const sdcAgain = await step(n, client, "scaleio.sdc-mdms", { mdmIps: [IPS[3], IPS[0]] });
    assert.equal(data(sdcAgain).changed, false, "the same set in another order is no change");

    await step(
      n,
      IPS[0],
      "scaleio.install-package",
      { component: "gateway", url: n.rpmUrl("gateway") },
      { password: PW },
    );
    const gw = await step(n, IPS[0], "scaleio.gateway-mdms", { mdmIps: [IPS[0], IPS[3]] });
    assert.equal(gw.result.ok, true, JSON.stringify(gw.result));
    assert.equal(data(gw).changed, true);
    const props = readFileSync(
      join(
        n.rootOf(IPS[0]),
        "opt/emc/scaleio/gateway/webapps/ROOT/WEB-INF/classes/gatewayUser.properties",
      ),
      "utf8",
    );
    assert.match(props, new RegExp(`^mdm\\.ip\\.addresses=${IPS[0]},${IPS[3]}$`, "m"));
    assert.match(props, /^security\.bypass_certificate_check=/m, "the other settings kept");
    assert.equal(
      data(await step(n, IPS[0], "scaleio.gateway-mdms", { mdmIps: [IPS[0], IPS[3]] })).changed,
      false,
    );
    // no gateway on a node: the step says so
    const none = await step(n, IPS[2], "scaleio.gateway-mdms", { mdmIps: [IPS[0]] });
    assert.equal(none.result.ok, false);
  } finally {
    await n.close();
  }
});

test("the deploy plan's SDC install, run again with other managers, points the installed SDC at them", async () => {
  const n = await startEmuNodes();
  try {
    await threeNodeCluster(n);
    const client = IPS[4];
    const sdc = (mdmIps: string[]) =>
      step(n, client, "scaleio.install-package", {
        component: "sdc",
        url: n.rpmUrl("sdc"),
        mdmIps,
      });
    assert.equal(data(await sdc([IPS[0], IPS[1]])).changed, true);
    assert.equal(data(await sdc([IPS[1], IPS[0]])).changed, false, "the same managers: no change");
    const again = await sdc([IPS[0], IPS[3]]);
    assert.equal(again.result.ok, true, JSON.stringify(again.result));
    assert.equal(data(again).changed, true);
    assert.deepEqual(n.emu.sys.nodes.get(client)!.sdcMdmIps, [IPS[0], IPS[3]]);
    assert.equal(
      readFileSync(join(n.rootOf(client), "bin/emc/scaleio/drv_cfg.txt"), "utf8"),
      `mdm ${IPS[0]},${IPS[3]}\n`,
    );
  } finally {
    await n.close();
  }
});

test("withMdmAddresses replaces the line, or adds it", () => {
  assert.equal(
    withMdmAddresses("a=1\nmdm.ip.addresses=1.1.1.1\nb=2\n", ["2.2.2.2"]),
    "a=1\nmdm.ip.addresses=2.2.2.2\nb=2\n",
  );
  assert.equal(
    withMdmAddresses("a=1\n", ["2.2.2.2", "3.3.3.3"]),
    "a=1\nmdm.ip.addresses=2.2.2.2,3.3.3.3\n",
  );
});
