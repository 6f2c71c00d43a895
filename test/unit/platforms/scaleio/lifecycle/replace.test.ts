// Replacing a node: the choice of the new MDM agent (the first placement's fault-domain, persona
// and resource rules), the refusals (healthy without force, no quorum, no eligible agent, one at
// a time), the `replace` plan's order against a fake cluster (install -> swap on a surviving
// manager -> placement -> SDCs and gateway; the lost SDS removed only once its data is rebuilt,
// then forgotten), its return after a restart, and the automatic trigger after a delay.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import type { AgentRecord, AgentRegistry } from "../../../../../src/framework/agents.js";
import type { ConditionFinding } from "../../../../../src/framework/health/types.js";
import type { ObservedCluster } from "../../../../../src/platforms/scaleio/observe/model.js";
import {
  placeReplacement,
  type MdmMember,
} from "../../../../../src/platforms/scaleio/topology/mdm-placement.js";
import type { AgentFacts } from "../../../../../src/platforms/scaleio/topology/facts.js";
import {
  NodeReplacer,
  REPLACE_PLAN,
  ReplaceError,
  rebuildReason,
} from "../../../../../src/platforms/scaleio/lifecycle/replace.js";
import { AutoMdmReplace } from "../../../../../src/platforms/scaleio/lifecycle/auto-replace.js";
import { silentLogger } from "../../../../../src/mesos/logger.js";
import { waitUntil } from "../../../../support/wait.js";

const need = { cpus: 1, memMb: 1024 };
const facts = (n: number, zone: string, over: Partial<AgentFacts> = {}): AgentFacts => ({
  agentId: `a${n}`,
  hostname: `node${n}`,
  ip: `10.0.0.${n}`,
  attributes: {},
  faultDomain: { region: "r", zone },
  resources: { cpus: 4, memMb: 8192 },
  ...over,
});
const PLACEMENT: MdmMember[] = [
  { role: "primary", name: "mdm1", agentId: "a1" },
  { role: "secondary", name: "mdm2", agentId: "a2" },
  { role: "tiebreaker", name: "tb1", agentId: "a3" },
];

test("the new MDM agent: a fault domain no remaining member uses, then resources; never a member, a data persona or an agent too small", () => {
  const agents = [
    facts(1, "z1"),
    facts(3, "z3"),
    facts(4, "z1", { resources: { cpus: 16, memMb: 65536 } }), // largest, but z1 is taken
    facts(5, "z2", { attributes: { "scaleio-persona": "data" } }),
    facts(6, "z2", { resources: { cpus: 0.5, memMb: 512 } }),
    facts(7, "z2"),
  ];
  const r = placeReplacement({ agents, members: PLACEMENT, failedAgentId: "a2", need });
  assert.ok(r.ok);
  assert.deepEqual(r.added, { role: "secondary", name: "mdm3", agentId: "a7" });
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(
    r.members.map((m) => `${m.role}:${m.name}:${m.agentId}`),
    ["primary:mdm1:a1", "secondary:mdm3:a7", "tiebreaker:tb1:a3"],
  );
  // Without a fresh domain: the best agent, with a warning.
  const crowded = placeReplacement({
    agents: agents.filter((a) => a.agentId !== "a7"),
    members: PLACEMENT,
    failedAgentId: "a2",
    need,
  });
  assert.ok(crowded.ok);
  assert.equal(crowded.added.agentId, "a4");
  assert.match(crowded.warnings[0]!, /shares failure domain/);
});

test("a lost primary: the secondary becomes primary and the new agent secondary; a tie-breaker by a tie-breaker, a pinned one first", () => {
  const agents = [facts(2, "z2"), facts(3, "z3"), facts(4, "z1"), facts(5, "z4")];
  const r = placeReplacement({ agents, members: PLACEMENT, failedAgentId: "a1", need });
  assert.ok(r.ok);
  assert.deepEqual(
    r.members.map((m) => `${m.role}:${m.name}:${m.agentId}`),
    ["primary:mdm2:a2", "secondary:mdm3:a4", "tiebreaker:tb1:a3"],
  );
  const pinned = [
    facts(1, "z1"),
    facts(2, "z2"),
    facts(4, "z4", { attributes: { "scaleio-persona": "manager" } }),
    facts(5, "z5", { attributes: { "scaleio-persona": "tiebreaker" } }),
    facts(6, "z6"),
  ];
  const tb = placeReplacement({ agents: pinned, members: PLACEMENT, failedAgentId: "a3", need });
  assert.ok(tb.ok);
  assert.deepEqual(tb.added, { role: "tiebreaker", name: "tb2", agentId: "a5" });
  const none = placeReplacement({
    agents: [
      facts(1, "z1"),
      facts(2, "z2"),
      facts(8, "z8", { attributes: { "scaleio-persona": "none" } }),
    ],
    members: PLACEMENT,
    failedAgentId: "a3",
    need,
  });
  assert.equal(none.ok, false);
});

// ---- the replacer against a fake cluster ----------------------------------------------------

class Cluster {
  mdms = [
    { ip: "10.0.0.1", name: "mdm1", role: "master" as const, status: "Normal" },
    { ip: "10.0.0.2", name: "mdm2", role: "slave" as const, status: "Normal" },
    { ip: "10.0.0.3", name: "tb1", role: "tieBreaker" as const, status: "Normal" },
  ] as { ip: string; name: string; role: "master" | "slave" | "tieBreaker"; status: string }[];
  sds = [1, 2, 3, 4].map((n) => ({ id: `sds${n}`, ip: `10.0.0.${n}`, connected: true }));
  degradedKb = 0;
  view(): ObservedCluster {
    const perf = {
      read: { iops: 0, kbPerSecond: 0 },
      write: { iops: 0, kbPerSecond: 0 },
      latencyMicros: 0,
    };
    return {
      at: Date.now(),
      startedAt: Date.now(),
      systemId: "sys",
      systemName: "s",
      mdmMode: "ThreeNodes",
      mdm: {
        mode: "ThreeNodes",
        state: this.mdms.every((m) => m.status === "Normal")
          ? "ClusteredNormal"
          : "ClusteredDegraded",
        members: this.mdms.map((m) => ({
          id: m.name,
          name: m.name,
          ips: [m.ip],
          role: m.role,
          status: m.status,
        })),
      },
      capacityAlertThresholds: { high: 80, critical: 90 },
      pools: [
        {
          id: "p1",
          name: "p1",
          protectionDomainId: "pd1",
          protectionDomainName: "default",
          sparePercentage: 34,
          maxKb: 1,
          limitKb: 1,
          spareKb: 0,
          inUseKb: 0,
          usedPercent: 1,
          freeForVolumesKb: 1,
          degradedKb: this.degradedKb,
          failedKb: 0,
          rebuildRemainingKb: 0,
          rebuildActiveKb: 0,
          rebalanceRemainingKb: 0,
          largestFaultUnitPercent: 25,
          faultUnits: 4,
          performance: perf,
        },
      ],
      sds: this.sds.map((s) => ({
        id: s.id,
        name: s.id,
        ips: [s.ip],
        protectionDomainId: "pd1",
        faultSetId: null,
        connected: s.connected,
        state: "Normal",
        maintenance: "NoMaintenance",
        performance: perf,
      })),
      devices: [],
      sdcs: [],
      alerts: [],
      requests: 1,
    };
  }
}

class Observer extends EventEmitter {
  latest: ObservedCluster | undefined;
  findings: ConditionFinding[] = [];
  error: string | undefined;
  private pending = false;
  constructor(private readonly c: Cluster) {
    super();
    this.look();
  }
  look(): void {
    this.latest = this.c.view();
    this.emit("observed", this.latest, this.findings);
  }
  observeSoon(): void {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => {
      this.pending = false;
      this.look();
    }, 2);
  }
}

class Agents extends EventEmitter {
  list: AgentRecord[] = [1, 2, 3, 4, 5].map((n) => ({
    agentId: `a${n}`,
    hostname: `node${n}`,
    ip: `10.0.0.${n}`,
    attributes: {},
    faultDomain: { region: "r", zone: `z${n}` },
    unreserved: { cpus: 4, memMb: 8192, diskMb: 0, ports: [] },
    firstSeen: 0,
    lastSeen: 0,
  })) as unknown as AgentRecord[];
  get = (id: string) => this.list.find((a) => a.agentId === id);
  all = () => this.list;
  active = () => this.list.filter((a) => a.lostSince === undefined);
  lose(id: string) {
    const a = this.get(id)!;
    a.lostSince = Date.now();
    this.emit("lost", a);
  }
  back(id: string) {
    const a = this.get(id)!;
    delete a.lostSince;
    this.emit("back", a);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  dir = mkdtempSync(join(tmpdir(), "replace-")),
  c = new Cluster(),
  agents = new Agents(),
) {
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  const observer = new Observer(c);
  let placement: MdmMember[] = PLACEMENT.map((m) => ({ ...m }));
  const calls: string[] = [];
  const retired = new Set<string>();
  const r = new NodeReplacer({
    engine,
    agents: agents as unknown as AgentRegistry,
    store,
    logger: silentLogger,
    runNode: async (agentId, kind, params) => {
      const p = params as Record<string, unknown>;
      calls.push(`${kind}@${agentId} ${JSON.stringify(p)}`);
      if (kind === "scaleio.mdm-replace") {
        const x = p as { failed: { ip: string }; replacement: { ip: string; name: string } };
        const old = c.mdms.find((m) => m.ip === x.failed.ip)!;
        c.mdms = c.mdms
          .filter((m) => m !== old)
          .concat({
            ip: x.replacement.ip,
            name: x.replacement.name,
            role: old.role === "master" ? "slave" : old.role,
            status: "Normal",
          });
      }
      return {};
    },
    provision: { need },
    placement: () => placement,
    savePlacement: async (m) => {
      calls.push(`placement ${m.map((x) => `${x.name}@${x.agentId}`).join(",")}`);
      placement = m;
    },
    forget: async (id) => {
      calls.push(`forget ${id}`);
      retired.add(id);
    },
    facts: () => ({ packageFormat: "rpm", devices: [], installed: {} }),
    toFacts: (a) => ({
      agentId: a.agentId,
      hostname: a.hostname,
      ip: a.ip,
      attributes: a.attributes,
      ...(a.faultDomain ? { faultDomain: a.faultDomain } : {}),
      resources: a.unreserved,
    }),
    retired: (id) => retired.has(id),
    packageUrl: (fmt, comp) => `http://repo/${comp}.${fmt}`,
    observer,
    removeSds: async (id) => {
      calls.push(`removeSds ${id}`);
      c.sds = c.sds.filter((s) => s.id !== id);
    },
  });
  engine.start();
  await r.start();
  cleanups.push(async () => {
    await engine.stop();
    await store.close();
  });
  return { r, engine, c, observer, agents, calls, dir, placement: () => placement, store };
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof ReplaceError ? `${err.statusCode} ${err.code}` : String(err);
  }
};

test("refusals: unknown agent, a healthy one without force, no quorum, one replacement at a time", async () => {
  const { r, c, observer, agents } = await setup();
  assert.equal(await code(r.request("nope")), "404 UNKNOWN_AGENT");
  assert.equal(await code(r.request("a2")), "409 AGENT_HEALTHY");
  // A data-only agent that answers has nothing a replacement could do, even forced.
  agents.lose("a5");
  assert.equal(await code(r.request("a5")), "409 NOTHING_TO_REPLACE");
  agents.back("a5");
  // Two of three members down: no quorum.
  c.mdms[1]!.status = "Disconnected";
  c.mdms[2]!.status = "Disconnected";
  observer.look();
  assert.equal(await code(r.request("a2")), "409 NO_QUORUM");
  c.mdms[2]!.status = "Normal";
  observer.look();
  // Failing (its MDM does not answer) is enough, without the agent being lost.
  assert.equal(await code(r.request("a2")), "ok");
  assert.equal(await code(r.request("a3", { force: true })), "409 REPLACE_IN_PROGRESS");
});

test("no eligible agent: 409 NO_ELIGIBLE_AGENT", async () => {
  const agents = new Agents();
  agents.list = agents.list.slice(0, 3);
  const { r } = await setup(undefined, undefined, agents);
  agents.lose("a2");
  assert.equal(await code(r.request("a2")), "409 NO_ELIGIBLE_AGENT");
});

test("a lost MDM agent with an SDS: install, swap on the primary, placement, SDCs and gateway, then its SDS removed once rebuilt, then forgotten", async () => {
  const { r, engine, c, observer, agents, calls, placement } = await setup();
  agents.lose("a2");
  c.mdms[1]!.status = "Disconnected";
  c.sds[1]!.connected = false;
  c.degradedKb = 4096; // its data still being rebuilt elsewhere
  observer.look();
  const job = await r.request("a2");
  assert.equal(job.mdm?.added.agentId, "a4", "z4: a domain no remaining member uses");
  assert.deepEqual(job.mdm?.managerIps, ["10.0.0.1", "10.0.0.4"]);
  await waitUntil(() => calls.includes("placement mdm1@a1,mdm3@a4,tb1@a3"), {
    timeoutMs: 5000,
    what: "the placement saved",
  });
  assert.match(calls[0]!, /^scaleio.install-package@a4 .*"component":"mdm","mdmRole":"manager"/);
  assert.match(calls[1]!, /^scaleio.mdm-replace@a1 .*"failed":\{"name":"mdm2","ip":"10.0.0.2"\}/);
  assert.match(calls[1]!, /"replacement":\{"name":"mdm3","ip":"10.0.0.4"\}/);
  assert.deepEqual(
    placement().map((m) => m.agentId),
    ["a1", "a4", "a3"],
  );
  await waitUntil(() => calls.filter((x) => x.startsWith("scaleio.sdc-mdms")).length === 4, {
    timeoutMs: 5000,
    what: "every live agent's SDC pointed at the new managers",
  });
  assert.ok(
    calls.some((x) => x.startsWith('scaleio.gateway-mdms@a1 {"mdmIps":["10.0.0.1","10.0.0.4"]}')),
  );
  assert.ok(!calls.some((x) => x.includes("@a2")), "nothing runs on the lost agent");
  // The SDS waits for the rebuild, and says so.
  await waitUntil(
    () =>
      /waiting: pool p1: 4 MB still to rebuild/.test(
        engine.progressOf(REPLACE_PLAN, "remove-sds/a2")?.message ?? "",
      ),
    { timeoutMs: 5000, what: "the removal waiting for the rebuild" },
  );
  assert.ok(!calls.some((x) => x.startsWith("removeSds")));
  c.degradedKb = 0;
  await engine.waitFor(REPLACE_PLAN, (v) => v.status === "COMPLETE", 5000);
  const tail = calls.slice(-2);
  assert.deepEqual(tail, ["removeSds sds2", "forget a2"]);
  assert.equal(r.busy(), false);
});

test("the plan comes back after a restart and finishes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "replace-"));
  const c = new Cluster();
  const agents = new Agents();
  const first = await setup(dir, c, agents);
  agents.lose("a3");
  c.mdms[2]!.status = "Disconnected";
  c.degradedKb = 1024;
  first.observer.look();
  await first.r.request("a3");
  await waitUntil(() => first.calls.some((x) => x.startsWith("placement")), {
    timeoutMs: 5000,
    what: "the tie-breaker swapped",
  });
  assert.ok(
    !first.calls.some((x) => x.startsWith("scaleio.sdc-mdms")),
    "a tie-breaker changes no SDC",
  );
  await first.engine.stop();
  await first.store.close();
  cleanups.splice(0);
  c.degradedKb = 0;
  const second = await setup(dir, c, agents);
  assert.equal(second.engine.planIds().includes(REPLACE_PLAN), true);
  await second.engine.waitFor(REPLACE_PLAN, (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(second.calls.slice(-2), ["removeSds sds3", "forget a3"]);
  assert.ok(
    !second.calls.some((x) => x.startsWith("scaleio.install-package")),
    "done steps are not run again",
  );
});

test("rebuildReason: nothing while no pool of the SDS's domain is degraded, failed or rebuilding", () => {
  const c = new Cluster();
  assert.equal(rebuildReason(c.view(), [], "10.0.0.2"), undefined);
  c.degradedKb = 2048;
  assert.match(rebuildReason(c.view(), [], "10.0.0.2")!, /pool p1: 2 MB still to rebuild/);
  assert.equal(
    rebuildReason(c.view(), [], "10.0.0.99"),
    undefined,
    "no such SDS: nothing to wait for",
  );
  c.degradedKb = 0;
  const f: ConditionFinding = {
    type: "Rebuilding",
    severity: "warning",
    object: "pool/default/p1",
    message: "pool p1 rebuilding 43 %",
  };
  assert.equal(rebuildReason(c.view(), [f], "10.0.0.2"), "pool p1 rebuilding 43 %");
});

test("automatic replacement: an MDM agent lost longer than the delay is replaced; one back in time is not; a refusal is asked again", async () => {
  const agents = new Agents();
  const asked: string[] = [];
  let refuse = true;
  const notes: string[] = [];
  const auto = new AutoMdmReplace({
    afterMs: 40,
    retryMs: 10,
    agents: agents as unknown as AgentRegistry,
    placement: () => PLACEMENT,
    replacer: {
      current: undefined,
      busy: () => false,
      request: async (id) => {
        asked.push(id);
        if (refuse && id === "a1") {
          refuse = false;
          throw new ReplaceError("NO_ELIGIBLE_AGENT", "no agent can take mdm1's place");
        }
        return {} as never;
      },
    },
    logger: silentLogger,
    notify: (_l, m) => notes.push(m),
  });
  auto.start();
  try {
    agents.lose("a3");
    agents.lose("a4"); // no MDM member on it: never replaced automatically
    agents.lose("a2");
    agents.back("a2"); // back in time
    await waitUntil(() => asked.includes("a3"), {
      timeoutMs: 2000,
      what: "the tie-breaker's agent replaced",
    });
    agents.lose("a1");
    await waitUntil(() => asked.filter((x) => x === "a1").length === 2, {
      timeoutMs: 2000,
      what: "asked again after a refusal",
    });
    assert.ok(!asked.includes("a2") && !asked.includes("a4"));
    assert.equal(notes.length, 1);
    assert.match(
      notes[0]!,
      /automatic replacement of MDM agent node1 .* not possible yet: no agent can take/,
    );
  } finally {
    auto.stop();
  }
});
