// The recovery plan from conditions: one repair step per broken object the framework can
// reach and owns; lost agents and an operator's spare are left alone; a repair restarts, then
// waits for an observation that shows the object back; objects that keep breaking back off.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RepairBackoff,
  buildRecoveryPlan,
  type RecoveryInput,
  type RecoveryPorts,
} from "../../../../src/platforms/scaleio/recovery-plan.js";
import type { ObservedCluster } from "../../../../src/platforms/scaleio/observe/model.js";
import type { ConditionFinding } from "../../../../src/framework/health/types.js";
import type { StepContext } from "../../../../src/framework/plan/types.js";

const observed = {
  pools: [{ id: "P1", name: "p", protectionDomainName: "pd", sparePercentage: 10 }],
  sds: [],
  sdcs: [],
  mdm: { members: [] },
} as unknown as ObservedCluster;

const f = (type: string, object: string): ConditionFinding => ({
  type,
  object,
  severity: "warning",
  message: `${type} ${object}`,
});

function input(findings: ConditionFinding[], over: Partial<RecoveryInput> = {}): RecoveryInput {
  return {
    findings,
    observed,
    agentByIp: new Map([
      ["10.0.0.1", { agentId: "A1", hostname: "h1", lost: false }],
      ["10.0.0.2", { agentId: "A2", hostname: "h2", lost: true }],
      ["10.0.0.3", { agentId: "A3", hostname: "h3", lost: false }],
    ]),
    managers: ["10.0.0.1", "10.0.0.3"],
    neededSpare: new Map([["pd/p", 34]]),
    missingDevices: new Map(),
    backoff: new RepairBackoff(),
    ...over,
  };
}

const calls: string[] = [];
const ports: RecoveryPorts = {
  node: async (agentId, kind, params) => {
    calls.push(`node ${agentId} ${kind} ${JSON.stringify(params)}`);
  },
  observedUntil: async (_ok, what) => {
    calls.push(`until ${what}`);
  },
  setSpare: async (poolId, pct) => {
    calls.push(`spare ${poolId} ${pct}`);
  },
  rejoin: async (agentId) => {
    calls.push(`rejoin ${agentId}`);
  },
};

const ctx = (): StepContext => ({
  planId: "recovery",
  stepId: "x",
  attempt: 1,
  signal: new AbortController().signal,
  progress: () => {},
});

test("one step per repairable condition; lost agents and unknown objects get none", () => {
  const plan = buildRecoveryPlan(
    input([
      f("SdsDisconnected", "sds/10.0.0.1"),
      f("SdsDisconnected", "sds/10.0.0.2"),
      f("SdcDisconnected", "sdc/10.0.0.3"),
      f("MdmClusterDegraded", "mdm/10.0.0.3"),
      f("MdmClusterDegraded", "mdm-cluster"),
      f("SpareBelowLargestFaultUnit", "pool/pd/p"),
      f("CapacityAlmostFull", "pool/pd/p"),
      f("SdsDisconnected", "sds/10.9.9.9"),
    ]),
    ports,
  );
  assert.equal(plan.id, "recovery");
  assert.equal(plan.phases[0]!.maxParallel, 2);
  assert.deepEqual(
    plan.phases[0]!.steps.map((s) => s.id),
    ["repair/sds/10.0.0.1", "repair/sdc/10.0.0.3", "repair/mdm/10.0.0.3", "repair/spare/pd/p"],
  );
  assert.equal(plan.phases[0]!.steps[0]!.asset, "A1", "one node step per agent at a time");
});

test("an operator's spare is reported, not overridden; no conditions, no steps", () => {
  const plan = buildRecoveryPlan(
    input([f("SpareBelowLargestFaultUnit", "pool/pd/p")], { neededSpare: new Map() }),
    ports,
  );
  assert.deepEqual(plan.phases[0]!.steps, []);
  assert.deepEqual(buildRecoveryPlan(input([]), ports).phases[0]!.steps, []);
});

test("a repair restarts, watching from then on for an observation that shows the object back", async () => {
  calls.length = 0;
  const plan = buildRecoveryPlan(
    input([f("SdcDisconnected", "sdc/10.0.0.1"), f("SpareBelowLargestFaultUnit", "pool/pd/p")], {
      missingDevices: new Map([["A3", ["/dev/sdb"]]]),
    }),
    ports,
  );
  for (const s of plan.phases[0]!.steps) await s.run(ctx());
  // The watch begins before the restart: a process seen back (and killed again) before the
  // node step reports still counts.
  assert.deepEqual(calls, [
    "until the SDC on 10.0.0.1 is back",
    'node A1 scaleio.restart-service {"component":"sdc","mdmIps":["10.0.0.1","10.0.0.3"]}',
    "spare P1 34",
    "rejoin A3",
  ]);
});

test("a restart that fails fails the repair and ends its watch", async () => {
  let watch: AbortSignal | undefined;
  const plan = buildRecoveryPlan(input([f("SdsDisconnected", "sds/10.0.0.1")]), {
    ...ports,
    node: async () => {
      throw new Error("could not restart sds");
    },
    observedUntil: (_ok, _what, c) =>
      new Promise((_resolve, reject) => {
        watch = c.signal;
        c.signal.addEventListener("abort", () => reject(c.signal.reason as Error));
      }),
  });
  await assert.rejects(plan.phases[0]!.steps[0]!.run(ctx()), /could not restart sds/);
  assert.equal(watch?.aborted, true, "the watch ended");
});

test("a watch that runs out while the restart is still under way fails the repair, unhandled nowhere", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    let finishRestart!: () => void;
    let watchEnded!: () => void;
    const ended = new Promise<void>((r) => (watchEnded = r));
    const plan = buildRecoveryPlan(input([f("SdsDisconnected", "sds/10.0.0.1")]), {
      ...ports,
      // An agent cut off: its node step answers only much later.
      node: () => new Promise<void>((r) => (finishRestart = r)),
      observedUntil: () =>
        new Promise<void>((_resolve, reject) =>
          setImmediate(() => {
            reject(new Error("the SDS on 10.0.0.1 is back: not seen within 60 s"));
            watchEnded();
          }),
        ),
    });
    const run = plan.phases[0]!.steps[0]!.run(ctx());
    await ended;
    // An unhandled rejection is reported once the tick that rejected has run its microtasks.
    await new Promise((r) => setImmediate(r));
    finishRestart();
    await assert.rejects(run, /not seen within 60 s/);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("an object that keeps breaking backs off: nothing the first time, then doubling", () => {
  let now = 0;
  const b = new RepairBackoff({ initialMs: 1000, maxMs: 3000, windowMs: 60_000 }, () => now);
  assert.equal(b.readyAt("k"), 0);
  b.record("k");
  assert.equal(b.readyAt("k"), 1000);
  now = 1000;
  b.record("k");
  assert.equal(b.readyAt("k"), 3000);
  now = 3000;
  b.record("k");
  assert.equal(b.readyAt("k"), 6000, "capped at max");
  now = 70_000;
  assert.equal(b.readyAt("k"), 70_000, "an hour (the window) later it starts afresh");
  assert.equal(b.count("k"), 0);
});

test("a backed-off repair waits, saying why, and an abort ends the wait", async () => {
  const backoff = new RepairBackoff({ initialMs: 60_000 });
  backoff.record("repair/sds/10.0.0.1");
  const plan = buildRecoveryPlan(input([f("SdsDisconnected", "sds/10.0.0.1")], { backoff }), ports);
  const ac = new AbortController();
  const said: string[] = [];
  const run = plan.phases[0]!.steps[0]!.run({
    ...ctx(),
    signal: ac.signal,
    progress: (m) => {
      said.push(m);
      ac.abort(new Error("stopped"));
    },
  });
  await assert.rejects(run, /stopped/);
  assert.match(said[0]!, /backing off: repaired 1 times in the last hour; next attempt in \d+ s/);
});

test("a repair's fingerprint: its object's break and what it applies, nothing that moves while it runs", () => {
  const fps = (over: Partial<RecoveryInput> = {}) =>
    new Map(
      buildRecoveryPlan(
        input(
          [
            f("SdsDisconnected", "sds/10.0.0.1"),
            f("SdcDisconnected", "sdc/10.0.0.3"),
            f("SpareBelowLargestFaultUnit", "pool/pd/p"),
          ],
          { missingDevices: new Map([["A1", ["/dev/sdb", "/dev/sdc"]]]), ...over },
        ),
        ports,
      ).phases[0]!.steps.map((s) => [s.id, s.fingerprint]),
    );
  const since = (t: number) => ({ brokenSince: () => t });
  const base = fps(since(1));
  assert.equal(base.size, 4);
  for (const fp of base.values()) assert.ok(fp);
  assert.deepEqual(fps(since(1)), base, "the same break, the same fingerprints");
  const again = fps(since(2));
  for (const [id, fp] of again) assert.notEqual(fp, base.get(id), `${id}: a new break`);
  const managers = fps({ ...since(1), managers: ["10.0.0.5"] });
  assert.notEqual(managers.get("repair/sdc/10.0.0.3"), base.get("repair/sdc/10.0.0.3"));
  assert.equal(managers.get("repair/sds/10.0.0.1"), base.get("repair/sds/10.0.0.1"));
  const spare = fps({ ...since(1), neededSpare: new Map([["pd/p", 50]]) });
  assert.notEqual(spare.get("repair/spare/pd/p"), base.get("repair/spare/pd/p"));
  // Re-adding devices shrinks the list as it goes: that must not interrupt it.
  const fewer = fps({ ...since(1), missingDevices: new Map([["A1", ["/dev/sdc"]]]) });
  assert.equal(fewer.get("repair/devices/A1"), base.get("repair/devices/A1"));
});
