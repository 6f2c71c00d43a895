// Growth on the running demo cluster (single pool): a new agent is on-boarded without operator
// action, a disk plugged into an agent grows the capacity after a rescan (and is never added
// twice), an agent that goes away and comes back is reconciled, not reinstalled, and an
// application's data follows it from a dead agent to another (the failover walk-through).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, type Demo } from "../../sim/demo/demo.js";
import { runFailover } from "../../sim/demo/failover.js";
import type { PlanView } from "../../src/framework/plan/types.js";
import { waitUntil } from "../support/wait.js";

const PASSWORD = "Demo-Adm1n-Pass";
const GB_KB = 2 ** 20;
let demo: Demo;
let installs: { ip: string; component: string }[] = [];

const stepsOf = (v: PlanView) => v.phases.flatMap((p) => p.steps);
const view = () => demo.scheduler.scheduler.engine.view("deploy");
const attemptsOf = (ids: string[]) =>
  Object.fromEntries(
    stepsOf(view()).flatMap((s) => (ids.includes(s.id) ? [[s.id, s.attempts]] : [])),
  );

async function complete(what: string, extra: (v: PlanView) => boolean = () => true) {
  return demo.scheduler.scheduler.engine
    .waitFor("deploy", (v) => v.status === "COMPLETE" && extra(v), 90_000)
    .catch((err: Error) => {
      const open = stepsOf(view())
        .filter((s) => s.status !== "COMPLETE")
        .map((s) => `${s.id} ${s.status} ${s.lastError ?? ""}`);
      throw new Error(`${what}: ${err.message}; open: ${open.join("; ")}`);
    });
}

before(async () => {
  demo = await startDemo({
    agents: 3,
    storageAgents: 3,
    out: () => undefined,
    deadlineMs: 90_000,
    agentPingTimeoutMs: 400,
    flags: { "device-scan-interval": "0" },
    ...(process.env.GROW_TEST_LOG ? { logFile: process.env.GROW_TEST_LOG } : {}),
  });
  await demo.healthy;
  // Every package installation from here on is recorded (a reinstall would show).
  const sys = demo.emulator.sys;
  const original = sys.installPackage.bind(sys);
  sys.installPackage = ((ip: string, component: string, ...rest: unknown[]) => {
    installs.push({ ip, component });
    return (original as (...a: unknown[]) => unknown)(ip, component, ...rest);
  }) as typeof sys.installPackage;
});

after(async () => {
  await demo?.stop();
});

test(
  "an agent that joins the running cluster is on-boarded: SDC, LIA, SDS with its device, REX-Ray",
  { timeout: 150_000 },
  async () => {
    const before = await demo.scheduler.summary();
    const earlier = await Promise.all(demo.cluster.agents.map((a) => a.id()));
    const watched = earlier.flatMap((id) => [
      `sdc/${id}`,
      `lia/${id}`,
      `sds-lia/${id}`,
      `join-sds/${id}`,
      `rexray/${id}`,
    ]);
    const attemptsBefore = attemptsOf(watched);
    installs = [];

    const agent = await demo.addAgent({ devices: ["sdb"] });
    const id = await agent.id();
    await complete("on-boarding", (v) => stepsOf(v).some((s) => s.id === `rexray/${id}`));
    await waitUntil(async () => (await demo.scheduler.summary()).sdsTotal === 4, {
      timeoutMs: 30_000,
      what: "a fourth SDS",
    });
    const s = await demo.scheduler.summary();
    assert.deepEqual([s.sdsConnected, s.sdsTotal], [4, 4]);
    assert.deepEqual([s.sdcConnected, s.sdcTotal], [4, 4]);
    assert.equal(s.rawCapacityKb, before.rawCapacityKb + 100 * GB_KB);
    const ids = new Set(stepsOf(view()).map((st) => st.id));
    for (const st of [
      `facts/${id}`,
      `prereq/${id}`,
      `sds-lia/${id}`,
      `sdc/${id}`,
      `join-sds/${id}`,
      `rexray/${id}`,
    ])
      assert.ok(ids.has(st), `step ${st} for the new agent`);
    // Only the new agent was worked on: nothing re-ran elsewhere, nothing installed elsewhere.
    assert.deepEqual(attemptsOf(watched), attemptsBefore);
    assert.deepEqual([...new Set(installs.map((i) => i.ip))], [agent.host]);
    assert.deepEqual(installs.map((i) => i.component).sort(), ["lia", "sdc", "sds"]);
  },
);

test(
  "a disk plugged into an agent grows the capacity after a rescan; a second rescan adds nothing",
  { timeout: 120_000 },
  async () => {
    const target = demo.cluster.agents[1]!;
    const id = await target.id();
    const before = await demo.scheduler.summary();
    demo.addDevice(target.host, "sdd");
    await demo.scheduler.platform.rescan(id);
    await waitUntil(
      async () =>
        (await demo.scheduler.summary()).rawCapacityKb === before.rawCapacityKb + 100 * GB_KB,
      { timeoutMs: 60_000, intervalMs: 200, what: "the raw capacity to grow by 100 GB" },
    );
    await complete("after the rescan");
    const after1 = await demo.scheduler.summary();
    assert.ok(after1.usableCapacityKb >= before.usableCapacityKb);
    const sdsDevices = () =>
      [...demo.emulator.sys.devices.values()].filter((d) =>
        demo.emulator.sys.sdss.get(d.sdsId)?.ipList.some((i) => i.ip === target.host),
      ).length;
    assert.equal(sdsDevices(), 3);

    // Again: the facts step runs again, idempotently; no device is added twice.
    const seen = new Set<string>();
    const engine = demo.scheduler.scheduler.engine;
    const onStep = (_p: string, _ph: string, st: { id: string; status: string }) => {
      if (st.id === `facts/${id}`) seen.add(st.status);
    };
    engine.on("step", onStep);
    await demo.scheduler.platform.rescan(id);
    await complete("after the second rescan", () => seen.has("COMPLETE"));
    engine.off("step", onStep);
    assert.equal(sdsDevices(), 3);
    assert.equal((await demo.scheduler.summary()).rawCapacityKb, after1.rawCapacityKb);

    await assert.rejects(
      demo.scheduler.platform.rescan("no-such-agent"),
      /no agent 'no-such-agent'/,
    );
  },
);

test(
  "an agent that goes away is not replaced, and on return it is reconciled, not reinstalled",
  { timeout: 150_000 },
  async () => {
    const agent = demo.cluster.agents[3]!;
    const id = await agent.id();
    const registry = demo.scheduler.scheduler.agents;
    const before = await demo.scheduler.summary();
    const mdmsBefore = JSON.stringify(demo.scheduler.platform.mdms);
    installs = [];

    await agent.kill();
    await waitUntil(() => registry.get(id)?.lostSince !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the scheduler to see the agent lost",
    });
    await assert.rejects(demo.scheduler.platform.rescan(id), /is lost/);
    // Its steps are out of the plan while it is away; nothing of it moved anywhere else.
    await complete("while the agent is away", (v) => !stepsOf(v).some((s) => s.asset === id));
    assert.deepEqual(installs, []);

    await agent.restart();
    await waitUntil(() => registry.get(id)?.lostSince === undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the agent to be back",
    });
    await complete("after the agent came back", (v) =>
      stepsOf(v).some((s) => s.id === `rexray/${id}` && s.status === "COMPLETE"),
    );
    const s = await demo.scheduler.summary();
    assert.equal(s.sdsTotal, before.sdsTotal, "no duplicate SDS");
    assert.equal(s.sdcTotal, before.sdcTotal, "no duplicate SDC");
    assert.equal(s.rawCapacityKb, before.rawCapacityKb);
    assert.deepEqual(installs, [], "no package installed again");
    assert.equal(JSON.stringify(demo.scheduler.platform.mdms), mdmsBefore);
  },
);

test(
  "failover: data written on agent A is read back on agent B after A died",
  { timeout: 150_000 },
  async () => {
    const lines: string[] = [];
    const r = await runFailover(demo, {
      from: 3,
      to: 0,
      password: PASSWORD,
      out: (l) => lines.push(l),
      timeoutMs: 60_000,
    });
    assert.match(r.written, /^[0-9a-f]{64}$/);
    assert.equal(r.read, r.written);
    assert.equal(lines.length, 6);
  },
);
