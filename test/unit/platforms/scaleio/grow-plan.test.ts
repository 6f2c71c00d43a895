// The deploy plan as agents come and go: an MDM that is away keeps its address (SDCs of new
// agents still point at it) and gets no step; an agent whose attributes cannot be honoured
// gets one failing step of its own; REX-Ray follows each agent's SDC assignment; the
// isolator's agent restart happens only when asked for.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildDeployPlan,
  type DeployInput,
  type DeployPorts,
  type HostFacts,
} from "../../../../src/platforms/scaleio/deploy-plan.js";
import type { PlanDefinition, StepContext } from "../../../../src/framework/plan/types.js";
import { PermanentStepError } from "../../../../src/framework/plan/types.js";
import { planStorage } from "../../../../src/platforms/scaleio/topology/storage.js";
import type { AgentFacts } from "../../../../src/platforms/scaleio/topology/facts.js";
import type { MdmMember } from "../../../../src/platforms/scaleio/topology/mdm-placement.js";
import {
  decodeDeviceReport,
  encodeDeviceReport,
  sameUsableDevices,
} from "../../../../src/platforms/scaleio/device-report.js";

const dev = (path: string, usable = true) => ({ path, sizeBytes: 2 ** 37, usable });
const agent = (n: number, attributes: Record<string, string> = {}): AgentFacts => ({
  agentId: `S${n}`,
  hostname: `node-${n}`,
  ip: `10.0.0.${n}`,
  attributes,
  resources: { cpus: 4, memMb: 8192 },
  devices: [dev("/dev/sdb"), dev("/dev/sdc")],
});
const mdms: MdmMember[] = [
  { agentId: "S1", role: "primary", name: "mdm1" } as MdmMember,
  { agentId: "S2", role: "secondary", name: "mdm2" } as MdmMember,
  { agentId: "S3", role: "tiebreaker", name: "tb1" } as MdmMember,
];
const facts = (ids: string[]) =>
  new Map<string, HostFacts>(
    ids.map((id) => [id, { packageFormat: "rpm", devices: [dev("/dev/sdb")], installed: {} }]),
  );

interface Call {
  agentId: string;
  kind: string;
  params: Record<string, unknown>;
}
function ports(result: (kind: string) => unknown = () => ({})) {
  const calls: Call[] = [];
  const restarts: string[] = [];
  const p: DeployPorts = {
    async node(agentId, kind, params) {
      calls.push({ agentId, kind, params: params as Record<string, unknown> });
      return result(kind);
    },
    async saveFacts() {},
    async prepareDomains() {},
    async applyAgent() {},
    async verify() {},
    async restartAgent(agentId) {
      restarts.push(agentId);
    },
  };
  return { p, calls, restarts };
}
const ctx = (): StepContext & { messages: string[] } => {
  const messages: string[] = [];
  return {
    planId: "deploy",
    stepId: "x",
    attempt: 1,
    signal: new AbortController().signal,
    progress: (m) => messages.push(m),
    messages,
  };
};
const stepIn = (plan: PlanDefinition, id: string) =>
  plan.phases.flatMap((ph) => ph.steps).find((s) => s.id === id);
function input(agents: AgentFacts[], extra: Partial<DeployInput> = {}): DeployInput {
  return {
    agents,
    facts: facts(agents.map((a) => a.agentId)),
    mdms,
    layout: planStorage(agents, {
      strategy: "imperative",
      protectionDomain: "default",
      storagePool: "default",
    }),
    systemName: "scaleio",
    packageUrl: (f, c) => `http://repo/EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.${f}`,
    rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThickProvisioned" },
    ...extra,
  };
}

test("an MDM that is away keeps its address for the SDCs of new agents and gets no step", async () => {
  // S1 (primary) is lost: not among the agents, its address still known.
  const agents = [agent(2), agent(3), agent(4)];
  const addresses = new Map([...agents.map((a) => [a.agentId, a.ip] as const), ["S1", "10.0.0.1"]]);
  const { p, calls } = ports();
  const plan = buildDeployPlan(input(agents, { addresses }), p);
  const ids = plan.phases.flatMap((ph) => ph.steps.map((s) => s.id));
  assert.ok(!ids.some((id) => id.endsWith("/S1")), "no step for the agent that is away");
  assert.deepEqual(plan.phases.find((ph) => ph.id === "mdm-cluster")!.steps, []);
  await stepIn(plan, "sdc/S4")!.run(ctx());
  assert.deepEqual(calls[0]!.params.mdmIps, ["10.0.0.1", "10.0.0.2"]);
});

test("bad attributes: the agent's own step fails permanently with the reasons; nothing depends on it", async () => {
  const agents = [
    agent(1, {
      "scaleio-sds-domains": "pd1",
      "scaleio-sds-pd1": "pool1",
      "scaleio-sds-pool1": "/dev/sdb",
    }),
    agent(2, {
      "scaleio-sds-domains": "pd1",
      "scaleio-sds-pd1": "pool1",
      "scaleio-sds-pool1": "/dev/sdz",
      "scaleio-sdc-domains": "pd1",
      "scaleio-sdc-pd1": "nopool",
    }),
  ];
  agents[1]!.devices = [dev("/dev/sdb"), dev("/dev/sdc", false)];
  const { p } = ports();
  const plan = buildDeployPlan(input(agents), p);
  const phase = plan.phases.find((ph) => ph.id === "assignments")!;
  assert.deepEqual(
    phase.steps.map((s) => s.id),
    ["assign/S2"],
  );
  assert.ok(!plan.phases.some((ph) => ph.dependsOn?.includes("assignments")));
  await assert.rejects(
    phase.steps[0]!.run(ctx()),
    (e: Error) =>
      e instanceof PermanentStepError &&
      /node-2: storage left out: device \/dev\/sdz does not exist on node-2/.test(e.message) &&
      /pool 'nopool'/.test(e.message),
  );
  assert.ok(stepIn(plan, "join-sds/S1"));
  assert.equal(stepIn(plan, "join-sds/S2"), undefined);
  assert.ok(stepIn(plan, "rexray/S2"), "its REX-Ray and SDC are still configured");
});

test("REX-Ray follows each agent's SDC assignment and the configured provisioning", async () => {
  const agents = [
    agent(1, {
      "scaleio-sds-domains": "pdA",
      "scaleio-sds-pdA": "fast",
      "scaleio-sds-fast": "/dev/sdb",
    }),
    agent(2, { "scaleio-sdc-domains": "pdA", "scaleio-sdc-pdA": "fast" }),
    agent(3),
  ];
  const { p, calls } = ports();
  const plan = buildDeployPlan(input(agents), p);
  for (const id of ["S1", "S2", "S3"]) await stepIn(plan, `rexray/${id}`)!.run(ctx());
  const of = (id: string) => calls.find((c) => c.agentId === id)!.params;
  assert.deepEqual(
    [of("S1").protectionDomain, of("S1").storagePool, of("S1").thinOrThick],
    ["pdA", "fast", "ThickProvisioned"],
  );
  assert.deepEqual([of("S2").protectionDomain, of("S2").storagePool], ["pdA", "fast"]);
  assert.deepEqual([of("S3").protectionDomain, of("S3").storagePool], ["default", "default"]);
});

test("the isolator step restarts the agent only when asked to and only when its files changed", async () => {
  const agents = [agent(1), agent(2), agent(3)];
  for (const [restartAgent, changed, expected] of [
    [false, true, []],
    [true, false, []],
    [true, true, ["S1"]],
  ] as const) {
    const { p, restarts } = ports((kind) =>
      kind === "scaleio.isolator-config"
        ? {
            agentRestartRequired: changed,
            agentFlags: ["--isolation=filesystem/linux,docker/volume"],
          }
        : {},
    );
    const plan = buildDeployPlan(
      input(agents, { isolator: { mode: "docker-volume", restartAgent } }),
      p,
    );
    const c = ctx();
    await stepIn(plan, "isolator/S1")!.run(c);
    assert.deepEqual(restarts, expected);
    if (!restartAgent && changed)
      assert.match(c.messages.join("\n"), /restart the Mesos agent to apply --isolation=/);
  }
});

test("device reports: encoded and validated; order does not matter; unusable devices do not count", () => {
  const devices = [
    dev("/dev/sdb"),
    dev("/dev/sdc"),
    { ...dev("/dev/sdd", false), reason: "holds xfs" },
  ];
  const r = decodeDeviceReport(Buffer.from(encodeDeviceReport(devices)));
  assert.deepEqual(r?.devices, devices);
  assert.equal(decodeDeviceReport(Buffer.from("not json")), undefined);
  assert.equal(decodeDeviceReport(Buffer.from('{"type":"other"}')), undefined);
  assert.throws(
    () => decodeDeviceReport(Buffer.from('{"type":"scaleio.devices","devices":[{"path":1}]}')),
    /malformed device report/,
  );
  assert.ok(sameUsableDevices(devices, [dev("/dev/sdc"), dev("/dev/sdb")]));
  assert.ok(!sameUsableDevices(devices, [dev("/dev/sdb")]));
});
