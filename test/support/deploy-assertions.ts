// What a finished deploy on the development cluster must leave behind, whatever happened on
// the way (crashes, kills, restarts): exactly the expected ScaleIO objects, one framework,
// one executor per agent, no step task running, and no reservation the framework does not use.
import assert from "node:assert/strict";
import { EXECUTOR, duplicates, emulatorObjects, type DeployEnv } from "./deploy-env.js";
import { waitUntil } from "./wait.js";

/** The emulator holds one of everything the deploy makes, on every agent, and nothing more. */
export function assertExpectedObjects(env: DeployEnv, devicesPerAgent = 2): void {
  const hosts = env.cluster.agents.map((a) => a.host).sort();
  const objs = emulatorObjects(env.emulator.sys);
  assert.equal(objs.mdms.length, 3, JSON.stringify(objs.mdms));
  assert.deepEqual(objs.mdms.map((m) => m.ip).sort(), hosts, "one MDM on each agent");
  assert.equal(objs.clusterMode, "3_node");
  assert.equal(objs.clusterState, "Normal");
  assert.deepEqual(objs.protectionDomains, ["default"]);
  assert.deepEqual(objs.pools, ["default/default"]);
  assert.deepEqual(objs.faultSets, []);
  assert.deepEqual(objs.sds.map((s) => s.ip).sort(), hosts, "one SDS per agent");
  assert.deepEqual(duplicates(objs.sds.map((s) => s.name)), []);
  assert.equal(objs.devices.length, hosts.length * devicesPerAgent, objs.devices.join(", "));
  assert.deepEqual(duplicates(objs.devices), []);
  assert.deepEqual(objs.volumes, [], "the verification probe removed itself");
  assert.deepEqual(objs.sdcs.sort(), hosts, "one SDC per agent");
  for (const h of hosts) {
    const pk = objs.packages.get(h) ?? [];
    for (const c of ["lia", "mdm", "sdc", "sds"]) assert.ok(pk.includes(c), `${c} on ${h}`);
  }
  assert.equal([...objs.packages.values()].filter((p) => p.includes("gateway")).length, 1);
}

/**
 * Mesos: one framework (the id survived every restart), one executor per agent, no step task
 * left running, and reservations only for what the framework's executors use (plus at most
 * one step task's worth kept for the next step).
 */
export async function assertMesosClean(
  env: DeployEnv,
  context = "",
  opts: { executorsMayBeGone?: boolean } = {},
): Promise<void> {
  const agentIds = await Promise.all(env.cluster.agents.map((a) => a.id()));
  let tasks: { id: string; state: string }[] = [];
  await waitUntil(async () => (tasks = (await env.mesosState()).activeTasks).length === 0, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: "no step task of the framework still running",
  }).catch((err: Error) => {
    throw new Error(`${err.message}: ${tasks.map((t) => `${t.id} ${t.state}`).join(", ")}`);
  });
  const m = await env.mesosState();
  assert.equal(m.frameworkIds.length, 1, `frameworks: ${m.frameworkIds.join(", ")}`);
  for (const id of agentIds) {
    // An executor killed after its agent's last step is not started again until that
    // agent has work: tests that kill executors may find none there.
    const executors = m.executorsByAgent.get(id) ?? [];
    if (opts.executorsMayBeGone && executors.length === 0) continue;
    assert.deepEqual(executors, [`scaleio-${id}`], `executor on ${id}`);
    const r = m.reservedByAgent.get(id);
    assert.ok(r, `a reservation on ${id}`);
    const max = {
      cpus: EXECUTOR.mdm.cpus + EXECUTOR.task.cpus,
      memMb: EXECUTOR.mdm.memMb + EXECUTOR.task.memMb,
    };
    assert.ok(
      r.cpus >= EXECUTOR.mdm.cpus && r.cpus <= max.cpus + 1e-9,
      `reserved cpus on ${id}: ${r.cpus} (executor ${EXECUTOR.mdm.cpus}) ${context}`,
    );
    assert.ok(
      r.memMb >= EXECUTOR.mdm.memMb && r.memMb <= max.memMb,
      `reserved mem on ${id}: ${r.memMb} (executor ${EXECUTOR.mdm.memMb}) ${context}`,
    );
  }
  for (const [id] of m.reservedByAgent) assert.ok(agentIds.includes(id), `reserved on ${id}`);
}
