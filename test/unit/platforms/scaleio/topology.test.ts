import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { placeMdms } from "../../../../src/platforms/scaleio/topology/mdm-placement.js";
import {
  failureDomainOf,
  TopologyError,
  type AgentFacts,
  type DeviceFact,
} from "../../../../src/platforms/scaleio/topology/facts.js";
import { planStorage } from "../../../../src/platforms/scaleio/topology/storage.js";
import { parseDeclarativeTopology } from "../../../../src/platforms/scaleio/topology/declarative.js";

const need = { cpus: 1.5, memMb: 3072 };
let seq = 0;
function agent(over: Partial<AgentFacts> & { zone?: string } = {}): AgentFacts {
  const n = ++seq;
  const { zone, ...rest } = over;
  return {
    agentId: `S${n}`,
    hostname: `node-${n}`,
    ip: `127.0.0.${n + 1}`,
    attributes: {},
    resources: { cpus: 4, memMb: 8192 },
    ...(zone ? { faultDomain: { region: "r1", zone } } : {}),
    ...rest,
  };
}
const dev = (path: string, usable = true, reason?: string): DeviceFact => ({
  path,
  sizeBytes: 200 * 2 ** 30,
  usable,
  ...(reason ? { reason } : {}),
});

test("3 MDMs on 3 different agents in 3 different fault domains, best resources first", () => {
  const agents = [
    agent({ zone: "a" }),
    agent({ zone: "a", resources: { cpus: 16, memMb: 65536 } }),
    agent({ zone: "b" }),
    agent({ zone: "c" }),
    agent({ zone: "b", resources: { cpus: 1, memMb: 1024 } }),
  ];
  const r = placeMdms({ agents, size: 3, need });
  assert.ok(r.ok);
  const members = r.placement.members;
  assert.deepEqual(
    members.map((m) => [m.role, m.name]),
    [
      ["primary", "mdm1"],
      ["secondary", "mdm2"],
      ["tiebreaker", "tb1"],
    ],
  );
  assert.equal(members[0]!.agentId, agents[1]!.agentId, "the largest agent gets the primary");
  const zones = members.map((m) => failureDomainOf(agents.find((a) => a.agentId === m.agentId)!));
  assert.equal(new Set(zones).size, 3);
  assert.ok(!members.some((m) => m.agentId === agents[4]!.agentId), "too small for an MDM");
  assert.deepEqual(r.placement.warnings, []);
});

test("5 MDMs: three managers and two tie-breakers; rack attributes count as fault domains", () => {
  const agents = ["r1", "r1", "r2", "r3", "r4", "r5", "r5"].map((rack) =>
    agent({ attributes: { rack } }),
  );
  const r = placeMdms({ agents, size: 5, need });
  assert.ok(r.ok);
  assert.deepEqual(
    r.placement.members.map((m) => m.name),
    ["mdm1", "mdm2", "mdm3", "tb1", "tb2"],
  );
  const racks = r.placement.members.map(
    (m) => agents.find((a) => a.agentId === m.agentId)!.attributes.rack,
  );
  assert.equal(new Set(racks).size, 5);
});

test("when domains run out, members share one with a warning, but never an agent", () => {
  const agents = [agent({ zone: "a" }), agent({ zone: "a" }), agent({ zone: "b" })];
  const r = placeMdms({ agents, size: 3, need });
  assert.ok(r.ok);
  assert.equal(new Set(r.placement.members.map((m) => m.agentId)).size, 3);
  assert.equal(r.placement.warnings.length, 1);
  assert.match(r.placement.warnings[0]!, /shares failure domain r1\/a/);
});

test("not enough agents: wait, and say what is missing", () => {
  const r = placeMdms({
    agents: [agent(), agent({ resources: { cpus: 0.5, memMb: 512 } })],
    size: 3,
    need,
  });
  assert.equal(r.ok, false);
  assert.ok(
    !r.ok &&
      r.waitingForAgents &&
      /needs 3 agents with at least 1.5 CPUs and 3072 MB free; 1 qualify/.test(r.reason),
  );
});

test("scaleio-persona pins roles; 'data' keeps an agent out; contradictions are errors", () => {
  const pinnedTb = agent({
    attributes: { "scaleio-persona": "tiebreaker" },
    resources: { cpus: 1, memMb: 1024 },
  });
  const big = agent({
    attributes: { "scaleio-persona": "data" },
    resources: { cpus: 64, memMb: 262144 },
  });
  const p = agent({ attributes: { "scaleio-persona": "primary" } });
  const others = [agent(), agent()];
  const r = placeMdms({ agents: [pinnedTb, big, p, ...others], size: 3, need });
  assert.ok(r.ok);
  const byName = Object.fromEntries(r.placement.members.map((m) => [m.name, m.agentId]));
  assert.equal(byName.tb1, pinnedTb.agentId);
  assert.equal(byName.mdm1, p.agentId);
  assert.ok(!Object.values(byName).includes(big.agentId));
  assert.throws(
    () =>
      placeMdms({
        agents: [
          agent({ attributes: { "scaleio-persona": "primary" } }),
          agent({ attributes: { "scaleio-persona": "primary" } }),
          agent(),
        ],
        size: 3,
        need,
      }),
    (e: unknown) => e instanceof TopologyError && /2 agents are pinned as primary/.test(e.message),
  );
  assert.throws(
    () =>
      placeMdms({
        agents: [agent({ attributes: { "scaleio-persona": "boss;reboot" } })],
        size: 3,
        need,
      }),
    /is not one of/,
  );
});

test("a placement made earlier is kept, even while one of its agents is away", () => {
  const agents = [agent(), agent(), agent(), agent()];
  const first = placeMdms({ agents, size: 3, need });
  assert.ok(first.ok);
  const again = placeMdms({
    agents: agents.filter((a) => a.agentId !== first.placement.members[0]!.agentId),
    size: 3,
    need,
    previous: first.placement.members,
  });
  assert.ok(again.ok);
  assert.deepEqual(again.placement.members, first.placement.members);
  assert.match(again.placement.warnings[0]!, /mdm1 \(primary\) is on agent .* not currently known/);
});

test("property: never two MDMs on one agent; distinct domains whenever enough exist", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          zone: fc.constantFrom("a", "b", "c", "d", "e"),
          cpus: fc.integer({ min: 1, max: 32 }),
          mem: fc.integer({ min: 1024, max: 65536 }),
        }),
        { minLength: 0, maxLength: 12 },
      ),
      fc.constantFrom(3 as const, 5 as const),
      (specs, size) => {
        const agents = specs.map((s) =>
          agent({ zone: s.zone, resources: { cpus: s.cpus, memMb: s.mem } }),
        );
        const r = placeMdms({ agents, size, need });
        const eligible = agents.filter(
          (a) => a.resources.cpus >= need.cpus && a.resources.memMb >= need.memMb,
        );
        if (eligible.length < size) return assert.equal(r.ok, false);
        assert.ok(r.ok);
        const ids = r.placement.members.map((m) => m.agentId);
        assert.equal(new Set(ids).size, size);
        const zones = new Set(eligible.map((a) => a.faultDomain!.zone));
        const used = new Set(
          ids.map((id) => agents.find((a) => a.agentId === id)!.faultDomain!.zone),
        );
        assert.equal(used.size, Math.min(size, zones.size));
      },
    ),
    { numRuns: 200 },
  );
});

test("single global pool: every usable raw device, never one with a filesystem", () => {
  const a = agent({
    devices: [dev("/dev/sdb"), dev("/dev/sdc"), dev("/dev/sda", false, "holds ext4, mounted at /")],
  });
  const b = agent({ devices: [] });
  const layout = planStorage([a, b], {
    strategy: "single-pool",
    protectionDomain: "default",
    storagePool: "default",
  });
  assert.deepEqual(layout.domains, [
    { name: "default", faultSets: [], pools: [{ name: "default" }] },
  ]);
  assert.deepEqual(layout.nodes[0]!.sds, {
    protectionDomain: "default",
    pools: [{ pool: "default", devices: ["/dev/sdb", "/dev/sdc"] }],
  });
  assert.equal(layout.nodes[1]!.sds, undefined, "an agent without devices is only a consumer");
  assert.deepEqual(layout.nodes[1]!.sdc, { protectionDomain: "default", storagePool: "default" });
});

test("imperative attributes, as the predecessor documented them", () => {
  const a = agent({
    attributes: {
      "scaleio-sds-domains": "mydomain",
      "scaleio-sds-mydomain": "saltwaterpool,freshwaterpool",
      "scaleio-sds-saltwaterpool": "/dev/xvdg,/dev/xvdh",
      "scaleio-sds-freshwaterpool": "/dev/xvdi",
    },
  });
  const consumer = agent({
    attributes: { "scaleio-sdc-domains": "mydomain", "scaleio-sdc-mydomain": "freshwaterpool" },
  });
  const layout = planStorage([a, consumer], {
    strategy: "imperative",
    protectionDomain: "default",
    storagePool: "default",
  });
  assert.deepEqual(layout.nodes[0]!.sds, {
    protectionDomain: "mydomain",
    pools: [
      { pool: "saltwaterpool", devices: ["/dev/xvdg", "/dev/xvdh"] },
      { pool: "freshwaterpool", devices: ["/dev/xvdi"] },
    ],
  });
  assert.deepEqual(layout.nodes[0]!.sdc, {
    protectionDomain: "mydomain",
    storagePool: "saltwaterpool",
  });
  assert.deepEqual(layout.nodes[1]!.sdc, {
    protectionDomain: "mydomain",
    storagePool: "freshwaterpool",
  });
  assert.deepEqual(
    layout.nodes.map((n) => n.problems),
    [[], []],
  );
});

test("imperative: contradictions and hostile values are problems of that agent only", () => {
  const good = agent({
    attributes: {
      "scaleio-sds-domains": "pd",
      "scaleio-sds-pd": "p1",
      "scaleio-sds-p1": "/dev/sdb",
    },
  });
  const twoPools = agent({
    attributes: {
      "scaleio-sds-domains": "pd",
      "scaleio-sds-pd": "p1,p2",
      "scaleio-sds-p1": "/dev/sdb",
      "scaleio-sds-p2": "/dev/sdb",
    },
  });
  const shell = agent({
    attributes: {
      "scaleio-sds-domains": "pd",
      "scaleio-sds-pd": "p1",
      "scaleio-sds-p1": "/dev/sdb;reboot",
    },
  });
  const twoPds = agent({ attributes: { "scaleio-sds-domains": "pd,other" } });
  const noPools = agent({ attributes: { "scaleio-sds-domains": "pd2" } });
  const fsDevice = agent({
    attributes: {
      "scaleio-sds-domains": "pd",
      "scaleio-sds-pd": "p1",
      "scaleio-sds-p1": "/dev/sdz,/dev/sda",
    },
    devices: [dev("/dev/sda", false, "holds xfs")],
  });
  const unknownPool = agent({
    attributes: { "scaleio-sdc-domains": "pd", "scaleio-sdc-pd": "ghost" },
  });
  const layout = planStorage([good, twoPools, shell, twoPds, noPools, fsDevice, unknownPool], {
    strategy: "imperative",
    protectionDomain: "default",
    storagePool: "default",
  });
  const [g, tp, sh, pds, np, fsd, up] = layout.nodes;
  assert.deepEqual(g!.problems, []);
  assert.ok(g!.sds);
  assert.equal(tp!.sds, undefined);
  assert.match(tp!.problems.join(), /device \/dev\/sdb is listed in two pools: p1 and p2/);
  assert.equal(sh!.sds, undefined);
  assert.match(sh!.problems.join(), /'\/dev\/sdb;reboot' is not a plain \/dev path/);
  assert.match(pds!.problems.join(), /names 2 protection domains/);
  assert.match(np!.problems.join(), /no attribute scaleio-sds-pd2/);
  assert.match(fsd!.problems.join(), /\/dev\/sdz does not exist/);
  assert.match(fsd!.problems.join(), /\/dev\/sda is not usable: holds xfs/);
  assert.match(up!.problems.join(), /pool 'ghost' in domain 'pd', which no agent provides/);
  assert.deepEqual(up!.sdc, { protectionDomain: "default", storagePool: "default" });
  assert.deepEqual(
    layout.domains.map((d) => d.name),
    ["pd"],
    "nothing from the broken agents is created",
  );
});

const TOPO = `
protectionDomains:
  - name: pd-fast
    faultSetAttribute: rack
    pools:
      - name: nvme
        sparePercentage: 34
        devices:
          - agents: { attributes: { tier: fast } }
            paths: [/dev/nvme0n1]
  - name: pd-bulk
    pools:
      - name: hdd
        devices:
          - agents: { hostname: "bulk-*" }
consumers:
  - agents: { attributes: { app: db } }
    protectionDomain: pd-fast
    pool: nvme
`;

test("declarative: domains, fault sets from an attribute, pools filled by selectors, consumers", () => {
  const topo = parseDeclarativeTopology(TOPO, "topology.yaml");
  const fast = agent({ attributes: { tier: "fast", rack: "r1" }, devices: [dev("/dev/nvme0n1")] });
  const bulk = agent({
    hostname: "bulk-7",
    devices: [dev("/dev/sdb"), dev("/dev/sdc"), dev("/dev/sda", false)],
  });
  const db = agent({ attributes: { app: "db" } });
  const layout = planStorage([fast, bulk, db], { strategy: "declarative", topology: topo });
  assert.deepEqual(layout.nodes[0]!.sds, {
    protectionDomain: "pd-fast",
    faultSet: "r1",
    pools: [{ pool: "nvme", devices: ["/dev/nvme0n1"] }],
  });
  assert.deepEqual(layout.nodes[1]!.sds, {
    protectionDomain: "pd-bulk",
    pools: [{ pool: "hdd", devices: ["/dev/sdb", "/dev/sdc"] }],
  });
  assert.deepEqual(layout.nodes[2]!.sdc, { protectionDomain: "pd-fast", storagePool: "nvme" });
  assert.deepEqual(layout.domains[0], {
    name: "pd-fast",
    faultSets: ["r1"],
    pools: [{ name: "nvme", sparePercentage: 34 }],
  });
});

test("declarative: an agent selected by two domains, or lacking its fault-set attribute, is left out with the reason", () => {
  const topo = parseDeclarativeTopology(TOPO);
  const both = agent({
    hostname: "bulk-1",
    attributes: { tier: "fast", rack: "r2" },
    devices: [dev("/dev/nvme0n1"), dev("/dev/sdb")],
  });
  const noRack = agent({ attributes: { tier: "fast" }, devices: [dev("/dev/nvme0n1")] });
  const layout = planStorage([both, noRack], { strategy: "declarative", topology: topo });
  assert.match(layout.nodes[0]!.problems.join(), /selected by 2 protection domains/);
  assert.match(layout.nodes[1]!.problems.join(), /attribute 'rack', which this agent lacks/);
  assert.equal(layout.nodes[0]!.sds, undefined);
  assert.equal(layout.nodes[1]!.sds, undefined);
});

test("declarative: bad YAML and bad descriptions are refused with the path of the problem", () => {
  assert.throws(() => parseDeclarativeTopology("protectionDomains: [", "t.yaml"), /t.yaml/);
  assert.throws(
    () => parseDeclarativeTopology("protectionDomains: []"),
    /at least one protection domain/,
  );
  assert.throws(
    () =>
      parseDeclarativeTopology(
        "protectionDomains:\n  - name: a\n    pools: [{name: p}]\nconsumers:\n  - {protectionDomain: a, pool: q}\n",
      ),
    /consumers.0.pool: unknown pool 'q' in a/,
  );
  assert.throws(
    () =>
      parseDeclarativeTopology(
        "protectionDomains:\n  - name: 'a b'\n    pools: [{name: p, devices: [{paths: ['/dev/../etc/passwd']}]}]\n",
      ),
    (e: unknown) =>
      e instanceof TopologyError &&
      /protectionDomains.0.name/.test(e.message) &&
      /paths.0: must/.test(e.message),
  );
});
