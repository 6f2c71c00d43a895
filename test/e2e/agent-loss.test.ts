// Faults during and after a deploy: (0) an executor killed mid-step: the step runs again
// and succeeds. Agents lost: (1) a data agent partitioned away during the deploy is marked lost, the plan
// completes for the others and nothing is deployed twice; when it comes back it is
// reconciled (its installed packages kept), not reinstalled. (2) After the deploy, the
// machine of an MDM is lost in 3_node mode: the ScaleIO cluster reports degraded and keeps
// serving (a volume is created and mapped through the gateway), the scheduler marks the
// agent lost and does not place an MDM anywhere else on its own.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { PlanView, StepView } from "../../src/framework/plan/types.js";
import type { TaskStatus } from "../../src/mesos/types/common.js";
import {
  duplicates,
  emulatorObjects,
  startDeployEnv,
  type DeployEnv,
} from "../support/deploy-env.js";
import { waitForEvent, waitUntil } from "../support/wait.js";

let env: DeployEnv | undefined;
after(async () => {
  await env?.stop();
});

const stepIds = (v: PlanView) => v.phases.flatMap((p) => p.steps.map((s) => s.id));

function deployComplete(h: SchedulerHandle, agents: number, timeoutMs: number) {
  return h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === agents,
    timeoutMs,
  );
}

test(
  "an agent lost during the deploy, then an MDM's machine lost after it",
  { timeout: 300_000 },
  async () => {
    env = await startDeployEnv({
      // The executor killed mid-step is found by its TASK_RUNNING: reported at once.
      runningAfterMs: 0,
      agents: 4,
      // The fourth agent (no devices, fewer resources) is never an MDM: a data/client node.
      agentSpec: (i) =>
        i === 3 ? { resources: "cpus:2;mem:3072;disk:20480;ports:[31000-32000]" } : {},
      master: { agentPingIntervalMs: 300, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 3 },
    });
    const h = await env.startInProcess();
    const engine = h.scheduler.engine;
    const ids = await Promise.all(env.cluster.agents.map((a) => a.id()));
    const lostId = ids[3]!;
    const lostAgent = env.cluster.agents[3]!;

    // 0. An executor killed while it runs a step: the step runs again and succeeds.
    const victim = ids[0]!;
    const running = await waitForEvent<[TaskStatus]>(h.scheduler.client, "update", {
      timeoutMs: 90_000,
      filter: (st) =>
        st.state === "TASK_RUNNING" &&
        st.agent_id?.value === victim &&
        st.task_id.value.startsWith("deploy_mdm_"),
    });
    const killedStep = running[0].task_id.value
      .replace(/^deploy_/, "")
      .replace(/\.\d+$/, "")
      .replace("_", "/");
    assert.equal(
      await env.cluster.agents[0]!.killExecutor(
        h.scheduler.client.frameworkId!,
        `scaleio-${victim}`,
      ),
      true,
    );
    const rerun = await waitForEvent<[string, string, StepView]>(engine, "step", {
      timeoutMs: 90_000,
      filter: (_p, _ph, s) => s.id === killedStep && s.status === "COMPLETE",
    });
    assert.ok(rerun[2].attempts >= 2, `${killedStep} ran again (attempts ${rerun[2].attempts})`);

    // 1. Partition the data agent once it has been discovered.
    await waitUntil(
      () =>
        engine
          .view("deploy")
          .phases.some((p) =>
            p.steps.some((s) => s.id === `facts/${lostId}` && s.status === "COMPLETE"),
          ),
      { timeoutMs: 90_000, intervalMs: 50, what: "the data agent discovered" },
    );
    assert.ok(!h.platform.mdms.some((m) => m.agentId === lostId), "the data agent is no MDM");
    await lostAgent.partition();
    await waitUntil(() => h.scheduler.agents.get(lostId)?.lostSince !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the partitioned agent marked lost",
    });
    const done = await deployComplete(h, 3, 180_000);
    assert.ok(
      stepIds(done).every((id) => !id.includes(lostId)),
      "no step for the lost agent in the completed plan",
    );
    const mdmsBefore = h.platform.mdms.map((m) => `${m.role}:${m.agentId}`).sort();
    const hosts = env.cluster.agents.map((a) => a.host);
    let objs = emulatorObjects(env.emulator.sys);
    assert.deepEqual(objs.mdms.map((m) => m.ip).sort(), hosts.slice(0, 3).sort());
    assert.deepEqual(objs.sds.map((s) => s.ip).sort(), hosts.slice(0, 3).sort());
    assert.deepEqual(duplicates(objs.devices), []);
    assert.equal(objs.devices.length, 6);
    assert.deepEqual(duplicates(objs.sdcs), []);
    assert.deepEqual(objs.volumes, []);
    const installedBefore = new Map(
      [...(env.emulator.sys.nodes.get(lostAgent.host)?.packages.values() ?? [])].map((p) => [
        p.component,
        p.installedAt,
      ]),
    );

    // The agent comes back: its steps return and complete; what it had stays as it was.
    await lostAgent.heal();
    await waitUntil(() => h.scheduler.agents.get(lostId)?.lostSince === undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the agent back",
    });
    const again = await deployComplete(h, 4, 180_000);
    assert.ok(stepIds(again).includes(`sdc/${lostId}`), "its steps are back in the plan");
    assert.deepEqual(
      h.platform.mdms.map((m) => `${m.role}:${m.agentId}`).sort(),
      mdmsBefore,
      "the MDM placement is kept",
    );
    objs = emulatorObjects(env.emulator.sys);
    assert.equal(objs.mdms.length, 3);
    assert.equal(objs.sds.length, 3);
    assert.equal(objs.devices.length, 6);
    assert.deepEqual(objs.sdcs.sort(), [...hosts].sort(), "one SDC per agent, once");
    assert.deepEqual(objs.pools, ["default/default"]);
    const node = env.emulator.sys.nodes.get(lostAgent.host)!;
    assert.ok(node.packages.has("sdc") && node.packages.has("lia"), "SDC and LIA on it");
    assert.ok(!node.packages.has("mdm") && !node.packages.has("sds"), "no MDM or SDS on it");
    for (const [component, at] of installedBefore)
      assert.equal(node.packages.get(component)?.installedAt, at, `${component} not reinstalled`);

    // 2. The secondary MDM's machine is lost: Mesos agent partitioned, its ScaleIO daemons gone.
    const secondary = h.platform.mdms.find((m) => m.role === "secondary")!;
    const mdmAgent = env.cluster.agents[ids.indexOf(secondary.agentId)]!;
    await mdmAgent.partition();
    for (const c of ["mdm", "sds", "sdc"] as const)
      env.emulator.sys.setComponentAlive(mdmAgent.host, c, false);
    await waitUntil(() => h.scheduler.agents.get(secondary.agentId)?.lostSince !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the MDM agent marked lost",
    });
    const summary = await h.summary();
    assert.equal(summary.mdmMode, "Cluster");
    assert.equal(summary.clusterState, "ClusteredDegraded");
    // Still serving: a volume is created and mapped to a live SDC through the gateway.
    const gw = env.gateway();
    const pool = (await gw.allStoragePools())[0]!;
    const live = (await gw.allSdcs()).find((s) => s.sdcIp === hosts[3])!;
    const vol = await gw.createVolume({
      name: "after-mdm-loss",
      sizeInKb: 8 * 1024 * 1024,
      storagePoolId: pool.id,
      thin: true,
    });
    await gw.mapVolume(vol, live.id);
    assert.ok(((await gw.volume(vol)).mappedSdcInfo ?? []).some((m) => m.sdcId === live.id));
    // The scheduler recomputed without the lost agent, and placed no MDM elsewhere.
    const after = await deployComplete(h, 3, 60_000);
    assert.deepEqual(
      h.platform.mdms.map((m) => `${m.role}:${m.agentId}`).sort(),
      mdmsBefore,
      "the MDM placement is not changed by the scheduler on its own",
    );
    assert.ok(
      stepIds(after).every(
        (id) => !(id.startsWith("mdm") && !mdmsBefore.some((m) => id.includes(m.split(":")[1]!))),
      ),
      "no MDM step for another agent",
    );
    assert.ok(
      !env.emulator.sys.nodes.get(hosts[3]!)!.packages.has("mdm"),
      "no MDM on the data agent",
    );
    assert.equal(emulatorObjects(env.emulator.sys).mdms.length, 3, "no MDM added to the cluster");
  },
);
