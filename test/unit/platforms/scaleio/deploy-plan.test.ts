import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../src/framework/plan/engine.js";
import {
  buildDeployPlan,
  domainsFingerprint,
  installedText,
  sdsFingerprint,
  type DeployPorts,
  type HostFacts,
} from "../../../../src/platforms/scaleio/deploy-plan.js";
import { placeMdms } from "../../../../src/platforms/scaleio/topology/mdm-placement.js";
import { planStorage } from "../../../../src/platforms/scaleio/topology/storage.js";
import type { AgentFacts } from "../../../../src/platforms/scaleio/topology/facts.js";

const agents: AgentFacts[] = [1, 2, 3, 4, 5].map((n) => ({
  agentId: `S${n}`,
  hostname: `node-${n}`,
  ip: `10.0.0.${n}`,
  attributes: {},
  resources: { cpus: 4, memMb: 8192 },
  faultDomain: { region: "r", zone: `z${n}` },
}));
const devicesOf = (id: string) =>
  ["S1", "S2", "S3"].includes(id)
    ? [
        { path: "/dev/sdb", sizeBytes: 2 ** 37, usable: true },
        { path: "/dev/sdc", sizeBytes: 2 ** 37, usable: true },
      ]
    : [];

interface Call {
  agentId: string;
  kind: string;
  params: Record<string, unknown>;
  secrets?: string[];
}

async function deploy(opts: { existing?: boolean; dir?: string; stopAfter?: number } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "deploy-"));
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const facts = new Map<string, HostFacts>((await store.get<[string, HostFacts][]>("facts")) ?? []);
  const calls: Call[] = [];
  const order: string[] = [];
  const stepKinds: string[] = [];
  let completed = 0;
  const placement = opts.existing
    ? undefined
    : placeMdms({ agents, size: 3, need: { cpus: 1.5, memMb: 3072 } });
  const mdms = placement && placement.ok ? placement.placement.members : undefined;
  const ports: DeployPorts = {
    async node(agentId, kind, params, ctx, o) {
      // A step installing several packages is recorded as one install each, in its order.
      const each =
        kind === "scaleio.install-packages"
          ? (params as { packages: Record<string, unknown>[] }).packages.map((pk) => ({
              kind: "scaleio.install-package",
              params: pk,
            }))
          : [{ kind, params: params as Record<string, unknown> }];
      for (const one of each) {
        calls.push({ agentId, ...one, ...(o?.secrets ? { secrets: o.secrets } : {}) });
        const component = (one.params as { component?: string }).component;
        order.push(`${one.kind}${component ? `:${component}` : ""}@${agentId}`);
      }
      if (kind === "scaleio.install-packages") stepKinds.push(`${kind}@${agentId}`);
      if (opts.stopAfter !== undefined && ++completed > opts.stopAfter) {
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        );
      }
      if (kind === "scaleio.host-facts")
        return {
          packageFormat: "rpm",
          devices: devicesOf(agentId),
          installed: {},
        } satisfies HostFacts;
      return {};
    },
    async saveFacts(agentId, f) {
      facts.set(agentId, f);
      await store.set("facts", [...facts]);
      await engine.setPlan(build());
    },
    async prepareDomains() {
      order.push("applyLayout");
    },
    async applyAgent(_layout, agentId) {
      order.push(`sds@${agentId}`);
    },
    async verify() {
      order.push("verify");
    },
  };
  const build = () => {
    const withDevices = agents.map((a) => ({
      ...a,
      ...(facts.has(a.agentId) ? { devices: facts.get(a.agentId)!.devices } : {}),
    }));
    return buildDeployPlan(
      {
        agents: withDevices,
        facts,
        ...(mdms ? { mdms } : { existingManagers: ["10.9.0.1", "10.9.0.2"] }),
        layout: planStorage(withDevices, {
          strategy: "single-pool",
          protectionDomain: "default",
          storagePool: "default",
        }),
        systemName: "scaleio",
        packageUrl: (fmt, c) => `http://repo/${c}.${fmt}`,
        rexray: {
          endpoint: "https://10.0.0.1/api",
          insecure: false,
          thinOrThick: "ThinProvisioned",
        },
        isolator: {
          isolatorPath: "/usr/lib/libmesos_dvdi_isolator-1.0.1.so",
          modulesFile: "/usr/lib/dvdi-mod.json",
        },
      },
      ports,
    );
  };
  await engine.setPlan(build());
  engine.start();
  return { engine, store, calls, order, mdms, dir, stepKinds };
}

test("full provisioning: discovery, MDMs, cluster, gateway, SDS, SDC+LIA, storage, consumers, verification, in a valid order", async () => {
  const { engine, store, calls, order, mdms, stepKinds } = await deploy();
  const v = await engine.waitFor("deploy", (p) => p.status === "COMPLETE", 10_000);
  assert.deepEqual(
    v.phases.map((p) => p.id),
    [
      "facts",
      "prerequisites",
      "mdm-packages",
      "mdm-cluster",
      "gateway",
      "node-packages",
      "mdm-node-packages",
      "clients",
      "storage",
      "sds",
      "consumers",
      "verify",
    ],
  );
  // SDS and LIA do not wait for the MDM cluster, except on the MDM nodes (busy forming it);
  // SDCs (given the managers' addresses) do.
  const phase = (id: string) => v.phases.find((p) => p.id === id)!;
  // Per agent, not per phase: a package waits for that agent's prerequisites, which wait
  // for its facts.
  assert.deepEqual(phase("node-packages").dependsOn, []);
  assert.deepEqual(phase("prerequisites").dependsOn, []);
  for (const s of phase("prerequisites").steps)
    assert.deepEqual(s.after, [s.id.replace("prereq/", "facts/")]);
  for (const p of ["mdm-packages", "node-packages", "mdm-node-packages", "clients"])
    for (const s of phase(p).steps)
      assert.deepEqual(s.after, [`prereq/${s.id.slice(s.id.indexOf("/") + 1)}`], s.id);
  assert.deepEqual(phase("mdm-node-packages").dependsOn, ["gateway"]);
  assert.deepEqual(phase("clients").dependsOn, ["gateway"]);
  // One step per agent installs its SDS (if it has one) and its LIA.
  const onMdms = phase("mdm-node-packages").steps.map((s) => s.id);
  for (const m of mdms!)
    assert.ok(
      onMdms.includes(`sds-lia/${m.agentId}`) || onMdms.includes(`lia/${m.agentId}`),
      m.agentId,
    );
  for (const s of phase("node-packages").steps)
    assert.ok(!mdms!.some((m) => s.id.endsWith(m.agentId)), `${s.id} waits on an MDM node`);
  assert.equal(phase("node-packages").steps.length + onMdms.length, 5);
  assert.equal(stepKinds.length, 5, "one package step per agent");
  // Pools need the cluster only; each SDS joins after its own package, REX-Ray after its
  // agent's SDC; the verification waits for everything.
  assert.deepEqual(phase("storage").dependsOn, ["gateway"]);
  for (const s of phase("sds").steps)
    assert.deepEqual(s.after, [s.id.replace("join-sds/", "sds-lia/")], s.id);
  for (const s of phase("consumers").steps.filter((x) => x.id.startsWith("rexray/")))
    assert.deepEqual(s.after, [s.id.replace("rexray/", "sdc/")], s.id);
  for (const p of ["consumers", "sds", "clients", "node-packages", "mdm-node-packages"])
    assert.ok(phase("verify").dependsOn.includes(p), `verify waits for ${p}`);
  const idx = (s: string) => order.indexOf(s);
  const primary = mdms!.find((m) => m.role === "primary")!.agentId;
  for (const a of agents)
    assert.ok(
      idx(`scaleio.host-facts@${a.agentId}`) < idx(`scaleio.install-prerequisites@${a.agentId}`),
    );
  const mdmInstalls = calls.filter(
    (c) => c.kind === "scaleio.install-package" && c.params.component === "mdm",
  );
  assert.equal(mdmInstalls.length, 3);
  assert.deepEqual(mdmInstalls.map((c) => c.params.mdmRole).sort(), [
    "manager",
    "manager",
    "tiebreaker",
  ]);
  const cluster = calls.find((c) => c.kind === "scaleio.mdm-cluster")!;
  assert.equal(cluster.agentId, primary);
  assert.deepEqual(cluster.secrets, ["adminPassword"]);
  assert.ok(
    idx(`scaleio.install-package:gateway@${primary}`) > idx(`scaleio.mdm-cluster@${primary}`),
    "gateway after the cluster",
  );
  const sdc = calls.filter((c) => c.params.component === "sdc");
  assert.equal(sdc.length, 5);
  const managerIps = mdms!
    .filter((m) => m.role !== "tiebreaker")
    .map((m) => agents.find((a) => a.agentId === m.agentId)!.ip);
  for (const c of sdc)
    assert.deepEqual(
      c.params.mdmIps,
      managerIps,
      "SDCs point at the managers, not the tie-breaker",
    );
  assert.deepEqual(
    calls
      .filter((c) => c.params.component === "sds")
      .map((c) => c.agentId)
      .sort(),
    ["S1", "S2", "S3"],
  );
  assert.ok(idx("applyLayout") > idx(`scaleio.mdm-cluster@${primary}`));
  assert.ok(idx("verify") > idx("applyLayout"));
  for (const a of ["S1", "S2", "S3"]) {
    assert.ok(idx(`sds@${a}`) > idx("applyLayout"), "an SDS joins after its domain exists");
    assert.ok(
      idx(`sds@${a}`) > idx(`scaleio.install-package:sds@${a}`),
      "an SDS joins after its package is installed",
    );
    assert.ok(idx("verify") > idx(`sds@${a}`));
  }
  for (const a of agents) {
    const rexray = idx(`scaleio.rexray-config@${a.agentId}`);
    const sdcAt = idx(`scaleio.install-package:sdc@${a.agentId}`);
    assert.ok(sdcAt >= 0 && rexray > sdcAt, `REX-Ray on ${a.agentId} after its SDC`);
    assert.ok(rexray > idx("applyLayout"), `REX-Ray on ${a.agentId} after the pools`);
    assert.ok(idx("verify") > rexray);
  }
  assert.equal(order.at(-1), "verify");
  for (const c of calls)
    assert.ok(
      !JSON.stringify(c.params).toLowerCase().includes("password"),
      "no secret in step params",
    );
  await engine.stop();
  await store.close();
});

test("existing cluster: no MDM work; SDCs point at the given managers", async () => {
  const { engine, store, calls } = await deploy({ existing: true });
  const v = await engine.waitFor("deploy", (p) => p.status === "COMPLETE", 10_000);
  assert.ok(!v.phases.some((p) => p.id.startsWith("mdm") || p.id === "gateway"));
  assert.ok(!calls.some((c) => c.kind === "scaleio.mdm-cluster" || c.params.component === "mdm"));
  for (const c of calls.filter((c) => c.params.component === "sdc"))
    assert.deepEqual(c.params.mdmIps, ["10.9.0.1", "10.9.0.2"]);
  await engine.stop();
  await store.close();
});

test("a scheduler stopped at any point finishes the deploy after a restart", async () => {
  for (const stopAfter of [1, 6, 12, 20]) {
    const first = await deploy({ stopAfter });
    await first.engine.waitFor("deploy", () => first.calls.length > stopAfter, 10_000);
    await first.engine.stop();
    await first.store.close();
    const second = await deploy({ dir: first.dir });
    const v = await second.engine.waitFor("deploy", (p) => p.status === "COMPLETE", 10_000);
    assert.equal(v.progress.complete, v.progress.total, `stopped after ${stopAfter} node steps`);
    await second.engine.stop();
    await second.store.close();
  }
});

test("fingerprints: the domains' and an SDS's change with what they create, not with order", () => {
  const domains = (spare: number, pools = ["p1", "p2"]) => ({
    nodes: [],
    domains: [
      { name: "pd2", faultSets: [], pools: [{ name: "q" }] },
      {
        name: "pd1",
        faultSets: ["fs1", "fs2"],
        pools: pools.map((name) => ({ name, sparePercentage: spare })),
      },
    ],
  });
  const base = domainsFingerprint(domains(34));
  assert.equal(domainsFingerprint(domains(34, ["p2", "p1"])), base, "pool order means nothing");
  assert.equal(
    domainsFingerprint({ nodes: [], domains: [...domains(34).domains].reverse() }),
    base,
    "domain order means nothing",
  );
  assert.notEqual(domainsFingerprint(domains(25)), base, "another spare");
  assert.notEqual(domainsFingerprint(domains(34, ["p1", "p2", "p3"])), base, "a new pool");

  const sds = (devices: string[], faultSet?: string) => ({
    protectionDomain: "pd1",
    ...(faultSet ? { faultSet } : {}),
    pools: [{ pool: "p1", devices }],
  });
  const one = sdsFingerprint(sds(["/dev/sdb", "/dev/sdc"]));
  assert.equal(sdsFingerprint(sds(["/dev/sdc", "/dev/sdb"])), one);
  assert.notEqual(sdsFingerprint(sds(["/dev/sdb", "/dev/sdc", "/dev/sdd"])), one, "a new device");
  assert.notEqual(sdsFingerprint(sds(["/dev/sdb", "/dev/sdc"], "fs1")), one, "a fault set");
});

test("the plan's domains and SDS steps carry their fingerprints", () => {
  const facts = new Map<string, HostFacts>(
    agents.map((a) => [
      a.agentId,
      { packageFormat: "rpm", devices: devicesOf(a.agentId), installed: {} },
    ]),
  );
  const layout = planStorage(
    agents.map((a) => ({ ...a, devices: devicesOf(a.agentId) })),
    { strategy: "single-pool", protectionDomain: "pd1", storagePool: "sp1" },
  );
  const plan = buildDeployPlan(
    {
      agents,
      facts,
      existingManagers: ["10.0.0.9"],
      layout,
      systemName: "s",
      packageUrl: () => "http://repo/x.rpm",
      rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
    },
    {} as DeployPorts,
  );
  const steps = new Map(plan.phases.flatMap((p) => p.steps).map((st) => [st.id, st]));
  assert.equal(steps.get("storage/domains")?.fingerprint, domainsFingerprint(layout));
  const s1 = layout.nodes.find((n) => n.agentId === "S1")!.sds!;
  assert.equal(steps.get("join-sds/S1")?.fingerprint, sdsFingerprint(s1));
  assert.equal(steps.get("facts/S1")?.fingerprint, undefined, "a rescan is an operator's");
});

test("an SDC's, REX-Ray's and the verification's fingerprints follow their inputs", () => {
  const withDevices = agents.map((a) => ({ ...a, devices: devicesOf(a.agentId) }));
  const build = (
    o: { managers?: string[]; pool?: string; endpoint?: () => string; lost?: string } = {},
  ) => {
    const here = agents.filter((a) => a.agentId !== o.lost);
    const layout = planStorage(
      withDevices.filter((a) => a.agentId !== o.lost),
      { strategy: "single-pool", protectionDomain: "pd1", storagePool: o.pool ?? "sp1" },
    );
    const plan = buildDeployPlan(
      {
        agents: here,
        addresses: new Map(agents.map((a) => [a.agentId, a.ip])),
        facts: new Map(
          here.map((a) => [
            a.agentId,
            { packageFormat: "rpm", devices: devicesOf(a.agentId), installed: {} } as HostFacts,
          ]),
        ),
        existingManagers: o.managers ?? ["10.0.0.9", "10.0.0.8"],
        layout,
        systemName: "s",
        packageUrl: () => "http://repo/x.rpm",
        rexray: {
          endpoint: o.endpoint ?? "https://gw/api",
          insecure: false,
          thinOrThick: "ThinProvisioned",
        },
      },
      {} as DeployPorts,
    );
    return new Map(plan.phases.flatMap((p) => p.steps).map((st) => [st.id, st.fingerprint]));
  };
  const base = build();
  for (const id of ["sdc/S1", "rexray/S1", "verify/cluster"])
    assert.ok(base.get(id), `${id} has a fingerprint`);
  assert.equal(build({ managers: ["10.0.0.8", "10.0.0.9"] }).get("sdc/S1"), base.get("sdc/S1"));
  assert.notEqual(build({ managers: ["10.0.0.7"] }).get("sdc/S1"), base.get("sdc/S1"));
  const otherPool = build({ pool: "sp2" });
  assert.notEqual(otherPool.get("rexray/S1"), base.get("rexray/S1"), "another pool");
  assert.equal(otherPool.get("sdc/S1"), base.get("sdc/S1"), "the SDC does not care");
  assert.notEqual(
    build({ endpoint: () => "https://gw2/api" }).get("rexray/S1"),
    base.get("rexray/S1"),
    "another gateway",
  );
  // Before the gateway's node is known the endpoint cannot be read: the plan is still built.
  const unplaced = build({
    endpoint: () => {
      throw new Error("not placed");
    },
  });
  assert.ok(unplaced.get("rexray/S1"));
  // A lost agent is still known by its address: nothing asks for a verification it would fail.
  assert.equal(build({ lost: "S5" }).get("verify/cluster"), base.get("verify/cluster"));
});

test("a new agent runs the verification again once its own steps are done", async () => {
  const grown = agents.slice(0, 4);
  const layout = (as: AgentFacts[]) =>
    planStorage(
      as.map((a) => ({ ...a, devices: devicesOf(a.agentId) })),
      { strategy: "single-pool", protectionDomain: "pd1", storagePool: "sp1" },
    );
  const dir = mkdtempSync(join(tmpdir(), "deploy-verify-"));
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const verified: number[] = [];
  const ports: DeployPorts = {
    node: async (_agentId, kind) =>
      kind === "scaleio.host-facts" ? { packageFormat: "rpm", devices: [], installed: {} } : {},
    saveFacts: async () => {},
    prepareDomains: async () => {},
    applyAgent: async () => {},
    verify: async () => {
      verified.push(Date.now());
    },
  };
  const plan = (as: AgentFacts[]) =>
    buildDeployPlan(
      {
        agents: as,
        facts: new Map(
          as.map((a) => [a.agentId, { packageFormat: "rpm", devices: [], installed: {} }]),
        ),
        existingManagers: ["10.0.0.9"],
        layout: layout(as),
        systemName: "s",
        packageUrl: () => "http://repo/x.rpm",
        rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
      },
      ports,
    );
  try {
    engine.start();
    await engine.setPlan(plan(grown.slice(0, 3)));
    await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
    assert.equal(verified.length, 1);
    await engine.setPlan(plan(grown));
    const v = await engine.waitFor("deploy", (x) => x.status === "COMPLETE", 10_000);
    assert.equal(verified.length, 2, "verified again with the new agent");
    const steps = new Map(v.phases.flatMap((p) => p.steps).map((s) => [s.id, s]));
    assert.ok(
      steps.get("verify/cluster")!.updatedAt >= steps.get("rexray/S4")!.updatedAt,
      "after the new agent's REX-Ray",
    );
    // The same agents again: nothing runs.
    await engine.setPlan(plan(grown));
    await engine.waitFor("deploy", (x) => x.status === "COMPLETE", 10_000);
    assert.equal(verified.length, 2);
  } finally {
    await engine.stop();
  }
});

test("a finished install step says what it installed, upgraded or found installed", () => {
  assert.equal(
    installedText([
      { component: "sds", version: "2.0-6035.0", changed: true },
      { component: "lia", version: "2.0-6035.0", changed: true },
    ]),
    "installed sds 2.0-6035.0, lia 2.0-6035.0",
  );
  assert.equal(
    installedText({ component: "sdc", version: "2.0-6035.0", changed: false }),
    "sdc 2.0-6035.0 already installed",
  );
  assert.equal(
    installedText([
      { component: "sds", version: "2.0-13000.211", changed: true, previousVersion: "2.0-6035.0" },
      { component: "lia", version: "2.0-13000.211", changed: false },
    ]),
    "upgraded sds 2.0-6035.0 to 2.0-13000.211; lia 2.0-13000.211 already installed",
  );
  assert.equal(installedText(null), undefined);
  assert.equal(installedText({ nothing: 1 }), undefined);
});
