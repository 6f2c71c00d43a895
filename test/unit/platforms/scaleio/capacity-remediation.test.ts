// Capacity remediation: a pool almost full first gets the unused devices of the agents that
// serve it (auto-grow), then the operator's hook when none are left; devices the hook attaches
// are looked for and added; every action is an event; each pool backs off on its own and
// starts afresh once it is no longer almost full.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CapacityRemediation,
  type CapacityRemediationOptions,
  type RemediationEvent,
} from "../../../../src/platforms/scaleio/remediate/capacity-remediation.js";
import {
  CapacityHook,
  type CapacityRequest,
} from "../../../../src/platforms/scaleio/remediate/capacity-hook.js";
import type {
  ObservedCluster,
  ObservedPool,
} from "../../../../src/platforms/scaleio/observe/model.js";
import type { ConditionFinding } from "../../../../src/framework/health/types.js";

const GIB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), "capacity-remediation-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A hook command that keeps each request it gets and answers with `answer`, exit `code`. */
function hookScript(name: string, code = 0, answer = "attached"): { path: string; seen: string } {
  const path = join(dir, `${name}.sh`);
  const seen = join(dir, `${name}.requests`);
  writeFileSync(path, `#!/bin/sh\ncat >> ${seen}\necho >> ${seen}\necho ${answer}\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return { path, seen };
}
const requestsIn = (seen: string): CapacityRequest[] => {
  try {
    return readFileSync(seen, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CapacityRequest);
  } catch {
    return [];
  }
};

/**
 * One pool `pd/p` (id P1) served by the SDSs of A1..A3 (A3 lost), a second pool P2 on A4; a
 * rescan keeps an agent busy until `finish()`, which adds the agent's unused devices.
 */
class World {
  now = 1_000_000;
  maxKb = 600 * GIB;
  inUseKb = 0;
  spare = 34;
  busy = new Set<string>();
  unusedKb = new Map<string, number>();
  rescans: string[] = [];
  events: RemediationEvent[] = [];

  pool(): ObservedPool {
    const spareKb = (this.maxKb * this.spare) / 100;
    return {
      id: "P1",
      name: "p",
      protectionDomainId: "PD",
      protectionDomainName: "pd",
      sparePercentage: this.spare,
      maxKb: this.maxKb,
      limitKb: this.maxKb,
      spareKb,
      inUseKb: this.inUseKb,
      usedPercent: (this.inUseKb / (this.maxKb - spareKb)) * 100,
    } as ObservedPool;
  }

  /** Fills the pool to `percent` of its non-spare capacity. */
  fill(percent: number): void {
    this.inUseKb = Math.ceil(((this.maxKb * (100 - this.spare)) / 100) * (percent / 100));
  }

  observed(): ObservedCluster {
    const p2 = { ...this.pool(), id: "P2", name: "other", usedPercent: 10 };
    return {
      at: this.now,
      pools: [this.pool(), p2],
      sds: [1, 2, 3, 4].map((i) => ({
        id: `S${i}`,
        ips: [`10.0.0.${i}`],
        protectionDomainId: "PD",
      })),
      devices: [
        { sdsId: "S1", poolId: "P1" },
        { sdsId: "S2", poolId: "P1" },
        { sdsId: "S3", poolId: "P1" },
        { sdsId: "S4", poolId: "P2" },
      ],
    } as unknown as ObservedCluster;
  }

  findings(): ConditionFinding[] {
    const p = this.pool();
    return p.usedPercent >= 80
      ? [
          {
            type: "CapacityAlmostFull",
            severity: p.usedPercent >= 90 ? "critical" : "warning",
            object: "pool/pd/p",
            message: "almost full",
          },
        ]
      : [];
  }

  finish(): void {
    for (const a of this.busy) this.maxKb += this.unusedKb.get(a) ?? 0;
    for (const a of this.busy) this.unusedKb.delete(a);
    this.busy.clear();
  }

  remediation(o: Partial<CapacityRemediationOptions> = {}): CapacityRemediation {
    return new CapacityRemediation(
      {
        autoGrow: "devices",
        warningPercent: 80,
        rescan: async (agentId) => {
          this.rescans.push(agentId);
          this.busy.add(agentId);
        },
        record: (e) => this.events.push(e),
        rescanBackoff: { initialMs: 60_000, maxMs: 600_000, random: () => 0.999 },
        now: () => this.now,
        ...o,
      },
      {
        agentByIp: (ip) => {
          const i = Number(ip.split(".").at(-1));
          return { agentId: `A${i}`, hostname: `h${i}`, ip, lost: i === 3 };
        },
        busyAgents: () => this.busy,
      },
    );
  }

  /** One observation, a second later. */
  async observe(r: CapacityRemediation): Promise<void> {
    this.now += 1000;
    await r.onObserved(this.observed(), this.findings());
  }

  actions(): string[] {
    return this.events.map((e) => e.action);
  }
}

test("auto-grow: the unused devices of the pool's agents are added; the hook is not called", async () => {
  const w = new World();
  const hook = hookScript("unused");
  const r = w.remediation({ hook: new CapacityHook({ target: { command: hook.path } }) });
  w.fill(85);
  w.unusedKb.set("A2", 300 * GIB);
  await w.observe(r);
  assert.deepEqual(
    w.rescans,
    ["A1", "A2"],
    "the serving agents, not the lost one or another pool's",
  );
  assert.deepEqual(w.actions(), ["rescan"]);
  assert.match(
    w.events[0]!.message,
    /pool pd\/p is 85 % used: looking for unused devices on h1, h2/,
  );
  await w.observe(r);
  assert.deepEqual(w.actions(), ["rescan"], "nothing while the rescans run");
  w.finish();
  await w.observe(r); // the pool is no longer almost full: 900 GiB raw now
  assert.deepEqual(w.actions(), ["rescan", "grew", "settled"]);
  assert.match(w.events[1]!.message, /grew from 600 to 900 GiB raw/);
  assert.deepEqual(requestsIn(hook.seen), [], "no hook call");
});

test("auto-grow finds nothing: the hook is asked, its answer recorded, its devices added", async () => {
  const w = new World();
  const hook = hookScript("grow", 0, "attached sdd to h1");
  const r = w.remediation({ hook: new CapacityHook({ target: { command: hook.path } }) });
  w.fill(85);
  await w.observe(r);
  w.finish(); // no unused device anywhere
  await w.observe(r);
  assert.deepEqual(w.actions(), ["rescan"], "one quiet observation is not enough to judge");
  await w.observe(r);
  assert.deepEqual(w.actions(), ["rescan", "no-growth", "hook", "rescan"]);
  const [req] = requestsIn(hook.seen);
  assert.deepEqual(req, {
    pool: "p",
    poolId: "P1",
    protectionDomain: "pd",
    usedPercent: 85,
    // 0.85 × 396 GiB in use; 70 % of the non-spare capacity needs 481 GiB, i.e. 729 raw.
    suggestedGrowthGb: 129,
    candidateAgents: [
      { agentId: "A1", hostname: "h1", ip: "10.0.0.1" },
      { agentId: "A2", hostname: "h2", ip: "10.0.0.2" },
    ],
  });
  const called = w.events[2]!;
  assert.equal(called.level, "info");
  assert.match(
    called.message,
    /capacity hook answered for pool pd\/p .*exit 0: attached sdd to h1/,
  );
  assert.equal(called.hook?.answer, "exit 0: attached sdd to h1");
  assert.match(w.events[3]!.message, /looking for attached devices on h1, h2/);
  w.unusedKb.set("A1", 200 * GIB); // what the hook attached shows up on the rescan
  w.finish();
  await w.observe(r);
  assert.deepEqual(w.actions().slice(4), ["grew", "settled"]);
  assert.equal(requestsIn(hook.seen).length, 1);
});

test("a failing hook is recorded and backs off; a settled pool starts afresh", async () => {
  const w = new World();
  const hook = hookScript("fails", 3, "no quota left");
  const r = w.remediation({
    autoGrow: "off",
    growthGb: 50,
    hook: new CapacityHook({
      target: { command: hook.path },
      now: () => w.now,
      backoff: { initialMs: 60_000, maxMs: 600_000, random: () => 0.999 },
    }),
  });
  w.fill(92);
  await w.observe(r);
  assert.deepEqual(w.rescans, [], "auto-grow off: no rescan");
  assert.deepEqual(w.actions(), ["hook"]);
  assert.equal(w.events[0]!.level, "warn");
  assert.match(w.events[0]!.message, /capacity hook failed .*50 GiB asked.*exit 3: no quota left/);
  assert.equal(requestsIn(hook.seen)[0]!.suggestedGrowthGb, 50, "the fixed growth is asked for");
  for (let i = 0; i < 5; i++) await w.observe(r);
  assert.equal(requestsIn(hook.seen).length, 1, "backing off");
  w.now += 60_000;
  await w.observe(r);
  assert.equal(requestsIn(hook.seen).length, 2, "asked again after the wait");
  w.fill(50); // someone freed space
  await w.observe(r);
  assert.deepEqual(w.actions(), ["hook", "hook", "settled"]);
  w.fill(85);
  await w.observe(r);
  assert.equal(requestsIn(hook.seen).length, 3, "a new episode asks at once");
});

test("auto-grow without a hook: one warning that nothing is left; rescans back off", async () => {
  const w = new World();
  const r = w.remediation();
  w.fill(85);
  await w.observe(r);
  w.finish();
  await w.observe(r);
  await w.observe(r);
  assert.deepEqual(w.actions(), ["rescan", "no-growth", "no-remedy"]);
  assert.equal(w.events[2]!.level, "warn");
  assert.match(
    w.events[2]!.message,
    /no unused device is left: add storage, or set --capacity-hook/,
  );
  for (let i = 0; i < 10; i++) await w.observe(r);
  assert.deepEqual(w.rescans, ["A1", "A2"], "no second rescan within the window");
  w.now += 60_000;
  await w.observe(r);
  assert.deepEqual(w.rescans, ["A1", "A2", "A1", "A2"], "looked again after it");
  assert.equal(w.actions().filter((a) => a === "no-remedy").length, 1, "warned once");
});

test("a rescan that cannot be asked for is recorded; the hook is asked at once", async () => {
  const w = new World();
  const hook = hookScript("at-once");
  const r = w.remediation({
    hook: new CapacityHook({ target: { command: hook.path } }),
    rescan: async (agentId) => {
      throw new Error(`agent '${agentId}' is not part of the deploy plan yet`);
    },
  });
  w.fill(85);
  await w.observe(r);
  assert.deepEqual(w.actions().slice(0, 3), ["rescan-failed", "rescan-failed", "hook"]);
  assert.match(w.events[0]!.message, /devices of h1 could not be looked at again: agent 'A1'/);
  assert.equal(requestsIn(hook.seen).length, 1);
});

test("a grow that never shows up is judged after the timeout", async () => {
  const w = new World();
  const r = w.remediation({ growTimeoutMs: 30_000 });
  w.fill(85);
  await w.observe(r);
  await w.observe(r);
  assert.deepEqual(w.actions(), ["rescan"]);
  w.now += 30_000; // still busy (a step retrying), but the wait is over
  await w.observe(r);
  assert.deepEqual(w.actions().slice(0, 2), ["rescan", "no-growth"]);
  assert.match(w.events[1]!.message, /within 3\d s/);
});
