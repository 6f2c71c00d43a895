// `--executor-launch artifact`: the scheduler serves the self-contained executor (built once
// here with `npm run build:executor`) and the agent's fetcher downloads it by URI; every
// node step of a deploy (one agent joining an existing emulator cluster) runs on it.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  emulatorObjects,
  startDeployEnv,
  waitForStep,
  type DeployEnv,
} from "../support/deploy-env.js";
import { buildExecutorArtifact } from "../support/executor-artifact.js";

let env: DeployEnv | undefined;
after(async () => {
  await env?.stop();
});

// Builds dist/executor/scaleio-executor, the file the scheduler serves.
before(() => buildExecutorArtifact());

/** Files named `name` under `dir`, recursively. */
function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name));
    else if (e.name === name) out.push(p);
  }
  return out;
}

test(
  "a deploy whose executors are the fetched self-contained artifact",
  { timeout: 240_000 },
  async () => {
    const first = "10.30.0.11";
    env = await startDeployEnv({
      agents: 1,
      storageAgents: 1,
      bootstrap: { mode: "3_node", firstIp: first, password: "Crash-Adm1n-pw" },
    });
    const proc = env.startScheduler([
      "--executor-launch",
      "artifact",
      "--mdm-primary",
      first,
      "--mdm-secondary",
      "10.30.0.12",
      "--mdm-tiebreaker",
      "10.30.0.13",
    ]);
    await waitForStep(
      proc,
      (s) => s.step === "verify/cluster" && s.status === "COMPLETE",
      200_000,
      "the deploy's last step",
    );
    const nodeSteps = proc.steps.filter(
      (s) => s.status === "COMPLETE" && !/^(storage|join-sds|verify)\//.test(s.step),
    );
    // facts, prerequisites, SDS+LIA, SDC, REX-Ray (and the MDM's on the MDM nodes).
    assert.ok(nodeSteps.length >= 5, nodeSteps.map((s) => s.step).join(", "));

    // The agent ran the fetched binary, not this installation's CLI.
    const sandboxes = findFiles(join(env.dir, "mesos"), "scaleio-executor");
    assert.ok(sandboxes.length >= 1, "the executor was fetched into a sandbox");
    for (const f of sandboxes) assert.ok(statSync(f).mode & 0o100, `${f} is executable`);
    const host = env.cluster.agents[0]!.host;
    const objs = emulatorObjects(env.emulator.sys);
    assert.ok(
      objs.sds.some((s) => s.ip === host),
      "the agent's SDS joined",
    );
    assert.ok(objs.sdcs.includes(host), "the agent's SDC registered");
    for (const c of ["lia", "sdc", "sds"])
      assert.ok(objs.packages.get(host)?.includes(c), `${c} installed by the artifact executor`);
    assert.equal(await proc.stop(), 0);
  },
);
