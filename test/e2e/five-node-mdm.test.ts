// 5-node MDM provisioning end to end: five agents, each in its own Mesos fault domain zone
// and rack. The scheduler places 3 managers and 2 tie-breakers, one per agent and one per
// zone, creates the cluster in 5_node mode, and the cluster is ClusteredNormal.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  duplicates,
  emulatorObjects,
  startDeployEnv,
  type DeployEnv,
} from "../support/deploy-env.js";

let env: DeployEnv | undefined;
after(async () => {
  await env?.stop();
});

test(
  "5 MDMs across 5 fault domains: 3 managers + 2 tie-breakers, ClusteredNormal",
  { timeout: 240_000 },
  async () => {
    env = await startDeployEnv({
      agents: 5,
      agentSpec: (i) => ({
        attributes: `rack:r${i + 1}`,
        domain: { fault_domain: { region: { name: "east" }, zone: { name: `zone-${i + 1}` } } },
      }),
    });
    const h = await env.startInProcess(["--mdm-count", "5"]);
    await h.scheduler.engine.waitFor(
      "deploy",
      (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 5,
      200_000,
    );

    const members = h.platform.mdms;
    assert.equal(members.length, 5);
    const roles = members.map((m) => m.role).sort();
    assert.deepEqual(roles, ["primary", "secondary", "secondary", "tiebreaker", "tiebreaker"]);
    assert.deepEqual(duplicates(members.map((m) => m.agentId)), [], "never two on one agent");
    const zoneOf = (id: string) => h.scheduler.agents.get(id)!.faultDomain!.zone;
    assert.equal(new Set(members.map((m) => zoneOf(m.agentId))).size, 5, "one per zone");

    const objs = emulatorObjects(env.emulator.sys);
    assert.equal(objs.clusterMode, "5_node");
    assert.equal(objs.clusterState, "Normal");
    assert.equal(objs.mdms.length, 5);
    assert.deepEqual(duplicates(objs.mdms.map((m) => m.ip)), []);
    const ipOf = (id: string) => h.scheduler.agents.get(id)!.ip;
    assert.deepEqual(
      objs.mdms
        .filter((m) => m.role === "tb")
        .map((m) => m.ip)
        .sort(),
      members
        .filter((m) => m.role === "tiebreaker")
        .map((m) => ipOf(m.agentId))
        .sort(),
      "the tie-breakers where they were placed",
    );
    assert.equal(objs.mdms.filter((m) => m.role === "master" || m.role === "slave").length, 3);
    // Managers are installed as managers, tie-breakers as tie-breakers.
    for (const m of members)
      assert.equal(
        env.emulator.sys.nodes.get(ipOf(m.agentId))!.mdmIsManager,
        m.role !== "tiebreaker",
      );
    const summary = await h.summary();
    assert.equal(summary.clusterState, "ClusteredNormal");
    assert.equal(summary.sdsConnected, 3);
    assert.equal(summary.sdcConnected, 5);
  },
);
