// A rolling upgrade end to end on the development cluster (3 MDM + 4 data nodes, the ScaleIO
// emulator, the scheduler observing every second), from 2.0-6035.0 to 2.0-13000.211, asked
// for with the CLI (`scaleio-framework upgrade --to … --canary 1`):
// - the order, from the emulator's own record of what happened: gateway, LIA everywhere, the
//   tie-breaker and the slave, mastership moved to an upgraded manager, the former master,
//   each SDS bracketed by maintenance in/out, the SDCs last;
// - never two SDSs of one protection domain in maintenance at once;
// - the canary pauses after the first SDS; a rebuild injected while paused holds the next
//   SDS step after the resume, which says why; it goes on once the rebuild is over;
// - a volume mapped on one node is written and read back (checksummed) throughout without an
//   I/O error; that node's SDC waits ("needs a driver reload: 1 volumes mapped") until the
//   volume is unmapped; the bytes are the same after;
// - every node's installed versions in /v1/nodes; a downgrade is refused (409, its code).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { StepView } from "../../src/framework/plan/types.js";
import type { NodeView } from "../../src/framework/operator-view.js";
import { BIN, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";

const OLD = "2.0-6035.0";
const NEW = "2.0-13000.211";
const TOKEN = "upgrade-e2e-token";

let env: DeployEnv;
let h: SchedulerHandle;
/** What the emulator saw, in order: `install <component> <ip> <version>`, `enter <ip>`, … */
const happened: string[] = [];
let maxInMaintenance = 0;
/** Progress messages of the upgrade's steps, by step id. */
const said = new Map<string, string[]>();

before(async () => {
  env = await startDeployEnv({ agents: 7, storageAgents: 4 });
  const tokenFile = join(env.dir, "api-token");
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  h = await env.startInProcess(["--observe-interval", "1", "--api-token-file", tokenFile]);
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 7,
    240_000,
  );
  // The emulator's own record of the upgrade's effects.
  const sys = env.emulator.sys;
  const install = sys.installPackage.bind(sys);
  sys.installPackage = (ip, component, version, ...rest) => {
    happened.push(`install ${component} ${ip} ${version}`);
    install(ip, component, version, ...rest);
  };
  const enter = sys.enterMaintenance.bind(sys);
  sys.enterMaintenance = (id) => {
    enter(id);
    const pd = sys.sdss.get(id)!.protectionDomainId;
    const inPd = [...sys.sdss.values()].filter(
      (s) => s.protectionDomainId === pd && s.maintenance,
    ).length;
    maxInMaintenance = Math.max(maxInMaintenance, inPd);
    happened.push(`enter ${sys.sdss.get(id)!.ipList[0]!.ip}`);
  };
  const exit = sys.exitMaintenance.bind(sys);
  sys.exitMaintenance = (id) => {
    exit(id);
    happened.push(`exit ${sys.sdss.get(id)!.ipList[0]!.ip}`);
  };
  const switchOwnership = sys.cluster.switchOwnership.bind(sys.cluster);
  sys.cluster.switchOwnership = (name) => {
    switchOwnership(name);
    happened.push(`master ${sys.cluster.master()!.ips[0]}`);
  };
  h.scheduler.engine.on("step", (plan: string, _phase: string, s: StepView) => {
    if (plan === "upgrade" && s.message) said.set(s.id, [...(said.get(s.id) ?? []), s.message]);
  });
});

after(async () => {
  await env?.stop();
});

async function api(path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${h.apiUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as unknown };
}

async function control(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const r = await fetch(`${env.emulator.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** An application on one node: writes blocks to its mapped volume and reads them back. */
function startApplication(device: string, volumeId: string) {
  const blocks = new Map<number, string>();
  const errors: string[] = [];
  let rounds = 0;
  let stopping = false;
  const done = (async () => {
    const fh = await open(device, "r+");
    try {
      for (let i = 0; !stopping; i++) {
        const block = i % 64;
        const data = randomBytes(4096);
        await fh.write(data, 0, data.length, block * 4096);
        blocks.set(block, createHash("sha256").update(data).digest("hex"));
        const back = Buffer.alloc(4096);
        await fh.read(back, 0, 4096, block * 4096);
        if (createHash("sha256").update(back).digest("hex") !== blocks.get(block))
          errors.push(`block ${block}: read back other bytes`);
        // The cluster's side of the same I/O: fails where no copy of the data is live.
        const io = await fetch(`${env.emulator.controlUrl}/admin/volumes/${volumeId}/io`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        if (io.status !== 200) errors.push(`I/O ${io.status}: ${await io.text()}`);
        rounds++;
        // Workload pacing (not a wait for anything): about 20 writes a second.
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await fh.close();
    }
  })();
  return {
    errors,
    rounds: () => rounds,
    async stop(): Promise<Map<number, string>> {
      stopping = true;
      await done;
      return blocks;
    },
  };
}

test("rolling upgrade 2.0-6035.0 → 2.0-13000.211: order, one SDS per domain, canary, gate, I/O throughout, versions, downgrade refused", async () => {
  const sys = env.emulator.sys;
  const agents = h.scheduler.agents.active();
  const ipOf = new Map(agents.map((a) => [a.agentId, a.ip]));
  const placement = h.platform.mdms;
  const mdmIp = (role: string) => ipOf.get(placement.find((m) => m.role === role)!.agentId)!;
  const [primary, secondary, tb] = [mdmIp("primary"), mdmIp("secondary"), mdmIp("tiebreaker")];
  for (const n of sys.nodes.values())
    for (const p of n.packages.values()) assert.equal(p.version, OLD, `${n.ip} ${p.component}`);

  // The application's volume, mapped on the first data node.
  const gw = env.gateway();
  const pool = (await gw.allStoragePools())[0]!;
  const sdsIps = [...sys.sdss.values()].map((s) => s.ipList[0]!.ip);
  const appIp = sdsIps[0]!;
  const appSdc = (await gw.allSdcs()).find((c) => c.sdcIp === appIp)!;
  const volumeId = await gw.createVolume({
    name: "app-data",
    sizeInKb: 8 * 1024 * 1024,
    storagePoolId: pool.id,
    thin: true,
  });
  await gw.mapVolume(volumeId, appSdc.id);
  const device = join(
    env.dir,
    "nodes",
    appIp,
    "dev",
    "disk",
    "by-id",
    `emc-vol-${sys.id}-${volumeId}`,
  );
  const app = startApplication(device, volumeId);

  // The CLI asks for the upgrade, with a canary of one SDS.
  const asked = await cli(["upgrade", "--to", NEW, "--canary", "1", "--api", h.apiUrl]);
  assert.equal(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, /upgrade to 2\.0-13000\.211 planned/);

  // Paused after the first SDS.
  const engine = h.scheduler.engine;
  await engine.waitFor(
    "upgrade",
    (v) => v.phases.find((p) => p.id === "sds-canary")?.status === "COMPLETE",
    180_000,
  );
  const held = engine.view("upgrade").phases.find((p) => p.id === "sds")!;
  assert.ok(held.paused, "the other SDSs wait for the operator");
  assert.equal(happened.filter((x) => x.startsWith("enter ")).length, 1);

  // A rebuild while paused: after the resume, the next SDS step waits for it and says so.
  await control(`/admin/sds/${sdsIps[3]}/rebuild`, { sizeGb: 64 });
  await waitUntil(() => h.view.health.conditions().some((c) => c.type === "Rebuilding"), {
    timeoutMs: 20_000,
    what: "the rebuild observed",
  });
  const resumed = await cli(["plan", "resume", "upgrade", "--api", h.apiUrl]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const next = held.steps[0]!.id;
  await waitUntil(
    () => (said.get(next) ?? []).some((m) => /^waiting: pool .* rebuilding/.test(m)),
    { timeoutMs: 20_000, what: `${next} saying it waits for the rebuild` },
  );
  assert.equal(
    happened.filter((x) => x.startsWith("enter ")).length,
    1,
    "no SDS goes into maintenance while the pool rebuilds",
  );
  await control("/admin/time", { advanceSeconds: 7200 });

  // The application's node keeps its volume: its SDC waits for it.
  const appAgent = agents.find((a) => a.ip === appIp)!.agentId;
  await waitUntil(
    () => (said.get(`sdc/${appAgent}`) ?? []).includes("needs a driver reload: 1 volumes mapped"),
    { timeoutMs: 180_000, what: "the mapped node's SDC waiting for its volume" },
  );
  assert.ok(
    !happened.some((x) => x === `install sdc ${appIp} ${NEW}`),
    "no SDC upgrade under a mapped volume",
  );
  const blocks = await app.stop();
  assert.deepEqual(app.errors, [], "no I/O error and the same bytes read back throughout");
  assert.ok(app.rounds() > 10, `the application ran throughout (${app.rounds()} rounds)`);
  const fh = await open(device, "r");
  try {
    for (const [block, sum] of blocks) {
      const back = Buffer.alloc(4096);
      await fh.read(back, 0, 4096, block * 4096);
      assert.equal(createHash("sha256").update(back).digest("hex"), sum, `block ${block} after`);
    }
  } finally {
    await fh.close();
  }
  await gw.unmapVolume(volumeId, appSdc.id);
  const done = await engine.waitFor("upgrade", (v) => v.status === "COMPLETE", 120_000);
  assert.equal(done.progress.complete, done.progress.total);

  // The order, from what the emulator saw.
  const at = (x: string) => {
    const i = happened.indexOf(x);
    assert.ok(i >= 0, `${x} in:\n${happened.join("\n")}`);
    return i;
  };
  const first = (prefix: string) => happened.findIndex((x) => x.startsWith(prefix));
  const last = (prefix: string) =>
    happened.length - 1 - [...happened].reverse().findIndex((x) => x.startsWith(prefix));
  assert.equal(happened[0], `install gateway ${primary} ${NEW}`);
  assert.ok(last("install lia ") < first("install mdm "), "LIA everywhere before the MDMs");
  assert.ok(at(`install mdm ${tb} ${NEW}`) < at(`install mdm ${secondary} ${NEW}`));
  assert.ok(at(`install mdm ${secondary} ${NEW}`) < at(`master ${secondary}`));
  assert.ok(at(`master ${secondary}`) < at(`install mdm ${primary} ${NEW}`), "former master last");
  assert.ok(last("install mdm ") < first("enter "), "the MDM cluster before the SDSs");
  const sdsOrder = happened.filter((x) => /^(enter|exit|install sds) /.test(x));
  for (let i = 0; i < sdsOrder.length; i += 3) {
    const ip = sdsOrder[i]!.split(" ")[1]!;
    assert.deepEqual(sdsOrder.slice(i, i + 3), [
      `enter ${ip}`,
      `install sds ${ip} ${NEW}`,
      `exit ${ip}`,
    ]);
  }
  assert.equal(sdsOrder.length, 12, "four SDSs, each in and out of maintenance");
  assert.equal(maxInMaintenance, 1, "never two SDSs of one domain in maintenance at once");
  assert.ok(last("exit ") < first("install sdc "), "the SDCs after every SDS");
  assert.equal(happened.filter((x) => x.startsWith("install sdc ")).length, 7);

  // Everything at the new version, and shown so.
  for (const n of sys.nodes.values())
    for (const p of n.packages.values()) assert.equal(p.version, NEW, `${n.ip} ${p.component}`);
  const nodes = (await api("/v1/nodes")).body as { nodes: NodeView[] };
  for (const n of nodes.nodes) {
    assert.equal(n.versions?.sds ?? NEW, NEW);
    assert.deepEqual(new Set(Object.values(n.versions ?? {})), new Set([NEW]), n.hostname);
  }
  const listed = await cli(["nodes", "--api", h.apiUrl]);
  assert.match(listed.stdout, /VERSIONS/);
  assert.match(listed.stdout, /2\.0-13000\.211/);

  // A downgrade is refused.
  const down = await api("/v1/plans/upgrade", { version: OLD });
  assert.equal(down.status, 409);
  assert.equal((down.body as { code?: string }).code, "DOWNGRADE_REFUSED");
  assert.match((down.body as { error: string }).error, /downgrade refused/);
});
