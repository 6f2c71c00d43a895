import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { PlanEngine } from "../../../src/framework/plan/engine.js";
import {
  PermanentStepError,
  PlanError,
  type PhaseDefinition,
  type PlanDefinition,
  type StepContext,
  type StepDefinition,
} from "../../../src/framework/plan/types.js";
import { watchPrototypes } from "../../support/prototypes.js";
import { withDeadline } from "../../support/wait.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A step whose runs the test controls: each run waits until released. */
class Gate {
  runs: StepContext[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private started: (() => void)[] = [];
  step(id: string, extra: Partial<StepDefinition> = {}): StepDefinition {
    return {
      id,
      name: `step ${id}`,
      run: (ctx) =>
        new Promise<void>((resolve, reject) => {
          this.runs.push(ctx);
          this.waiters.push({ resolve, reject });
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error));
          this.started.splice(0).forEach((f) => f());
        }),
      ...extra,
    };
  }
  async running(n: number): Promise<void> {
    while (this.runs.length < n) {
      await withDeadline(new Promise<void>((r) => this.started.push(r)), 5000, `run #${n}`);
    }
  }
  /** Ends the run of that step (parallel steps start in no particular order). */
  releaseStep(stepId: string, err?: Error) {
    const i = this.runs.findIndex((r) => r.stepId === stepId);
    assert.ok(i >= 0, `${stepId} has not started`);
    this.release(i, err);
  }
  release(i: number, err?: Error) {
    const w = this.waiters[i]!;
    if (err) w.reject(err);
    else w.resolve();
  }
}

async function setup(opts: { dir?: string } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "plan-"));
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({
    store,
    retry: { initialMs: 5, maxMs: 20 },
    redact: (t) => t.replaceAll("hunter2", "[redacted]"),
  });
  cleanups.push(async () => {
    await engine.stop();
    await store.close();
  });
  return { engine, store, dir };
}

const log: string[] = [];
const recording = (id: string, extra: Partial<StepDefinition> = {}): StepDefinition => ({
  id,
  name: id,
  run: async () => {
    log.push(id);
  },
  ...extra,
});

function plan(
  phases: PhaseDefinition[],
  strategy: "serial" | "parallel" = "serial",
): PlanDefinition {
  return { id: "deploy", name: "Deploy", strategy, phases };
}

test("serial phases of serial steps run in order and the plan completes", async () => {
  log.length = 0;
  const { engine } = await setup();
  await engine.setPlan(
    plan([
      { id: "mdm", name: "MDM", strategy: "serial", steps: [recording("a"), recording("b")] },
      { id: "sds", name: "SDS", strategy: "serial", steps: [recording("c")] },
    ]),
  );
  assert.equal(engine.view("deploy").status, "PENDING");
  engine.start();
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log, ["a", "b", "c"]);
  assert.deepEqual(v.progress, { complete: 3, total: 3 });
  assert.ok(v.phases.every((p) => p.status === "COMPLETE"));
  assert.equal(v.phases[0]!.steps[0]!.attempts, 1);
});

test("a parallel phase runs its steps together, bounded by maxParallel", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan([
      {
        id: "p",
        name: "P",
        strategy: "parallel",
        maxParallel: 2,
        steps: ["1", "2", "3"].map((i) => gate.step(i)),
      },
    ]),
  );
  engine.start();
  await gate.running(2);
  let v = engine.view("deploy");
  assert.deepEqual(
    v.phases[0]!.steps.map((s) => s.status),
    ["IN_PROGRESS", "IN_PROGRESS", "PENDING"],
  );
  assert.equal(v.status, "IN_PROGRESS");
  gate.release(0);
  await gate.running(3);
  gate.release(1);
  gate.release(2);
  v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(v.progress.complete, 3);
});

test("phase dependencies: with a parallel plan, independent phases overlap and dependants wait", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan(
      [
        { id: "a", name: "A", strategy: "serial", steps: [gate.step("a1")] },
        { id: "b", name: "B", strategy: "serial", steps: [gate.step("b1")] },
        { id: "c", name: "C", strategy: "serial", dependsOn: ["a", "b"], steps: [gate.step("c1")] },
      ],
      "parallel",
    ),
  );
  engine.start();
  await gate.running(2);
  assert.equal(engine.view("deploy").phases[2]!.status, "PENDING");
  assert.deepEqual(engine.view("deploy").phases[2]!.dependsOn, ["a", "b"]);
  gate.releaseStep("a1");
  await engine.waitFor("deploy", (v) => v.phases[0]!.status === "COMPLETE", 5000);
  assert.equal(gate.runs.length, 2, "c must wait for b too");
  gate.releaseStep("b1");
  await gate.running(3);
  gate.releaseStep("c1");
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
});

test("a step waits for the steps it is after, not for their whole phase", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan(
      [
        { id: "a", name: "A", strategy: "parallel", steps: [gate.step("a1"), gate.step("a2")] },
        { id: "b", name: "B", strategy: "parallel", steps: [gate.step("b1", { after: ["a1"] })] },
      ],
      "parallel",
    ),
  );
  engine.start();
  await gate.running(2);
  assert.deepEqual(gate.runs.map((r) => r.stepId).sort(), ["a1", "a2"]);
  assert.deepEqual(engine.view("deploy").phases[1]!.steps[0]!.after, ["a1"]);
  gate.releaseStep("a1");
  await gate.running(3);
  assert.equal(gate.runs[2]!.stepId, "b1", "b1 starts while a2 still runs");
  assert.equal(engine.view("deploy").phases[0]!.steps[1]!.status, "IN_PROGRESS");
  gate.releaseStep("a2");
  gate.releaseStep("b1");
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  const bad = (after: string[]) =>
    engine.setPlan(
      plan([
        {
          id: "x",
          name: "X",
          strategy: "parallel",
          steps: [gate.step("x1", { after }), gate.step("x2", { after: ["x1"] })],
        },
      ]),
    );
  await assert.rejects(bad(["nope"]), /waits for unknown step 'nope'/);
  await assert.rejects(bad(["x2"]), /step dependency cycle: x1 -> x2 -> x1/);
});

test("a failing step shows its error, is retried with backoff, and its attempts are counted", async () => {
  const { engine } = await setup();
  let n = 0;
  await engine.setPlan(
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [
          {
            id: "flaky",
            name: "flaky",
            run: async () => {
              if (++n < 3) throw new Error(`gateway said no (${n}) password=hunter2`);
            },
          },
        ],
      },
    ]),
  );
  const errors: string[] = [];
  engine.on("step", (_p, _ph, s) => s.status === "ERROR" && errors.push(s.lastError!));
  engine.start();
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(v.phases[0]!.steps[0]!.attempts, 3);
  assert.equal(v.phases[0]!.steps[0]!.lastError, undefined);
  assert.deepEqual(errors, [
    "gateway said no (1) password=[redacted]",
    "gateway said no (2) password=[redacted]",
  ]);
});

test("a permanent error waits for the operator; restarting the step runs it again", async () => {
  const { engine } = await setup();
  let fail = true;
  await engine.setPlan(
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [
          {
            id: "s",
            name: "s",
            run: async () => {
              if (fail) throw new PermanentStepError("device /dev/sdb holds a filesystem");
            },
          },
          recording("after"),
        ],
      },
    ]),
  );
  engine.start();
  const v = await engine.waitFor("deploy", (v) => v.status === "ERROR", 5000);
  const s = v.phases[0]!.steps[0]!;
  assert.equal(s.lastError, "device /dev/sdb holds a filesystem");
  assert.equal(s.retryAt, undefined);
  assert.equal(v.phases[0]!.steps[1]!.status, "PENDING", "serial: the next step waits");
  fail = false;
  await engine.restartStep("deploy", "s");
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
});

test("pause and resume a plan and a phase", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan([{ id: "p", name: "P", strategy: "serial", steps: [gate.step("1"), gate.step("2")] }]),
  );
  engine.start();
  await gate.running(1);
  await engine.pause("deploy");
  assert.equal(engine.view("deploy").status, "WAITING");
  gate.release(0);
  await engine.waitFor("deploy", (v) => v.phases[0]!.steps[0]!.status === "COMPLETE", 5000);
  assert.equal(gate.runs.length, 1, "paused: the second step must not start");
  await engine.resume("deploy");
  await gate.running(2);
  await engine.pause("deploy", "p");
  assert.equal(engine.view("deploy").phases[0]!.status, "WAITING");
  await assert.rejects(
    engine.pause("deploy", "nope"),
    (e: unknown) => e instanceof PlanError && e.code === "UNKNOWN_PHASE",
  );
  await engine.resume("deploy", "p");
  gate.release(1);
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
});

test("force-complete interrupts a hung step and moves on", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan([
      { id: "p", name: "P", strategy: "serial", steps: [gate.step("hung"), recording("next")] },
    ]),
  );
  engine.start();
  await gate.running(1);
  await engine.forceComplete("deploy", "hung");
  assert.equal(gate.runs[0]!.signal.aborted, true);
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(v.phases[0]!.steps[0]!.forced, true);
  await assert.rejects(
    engine.forceComplete("deploy", "ghost"),
    (e: unknown) => e instanceof PlanError && e.code === "UNKNOWN_STEP",
  );
  assert.throws(
    () => engine.view("nope"),
    (e: unknown) => e instanceof PlanError && e.code === "UNKNOWN_PLAN",
  );
});

test("ids named like prototype properties are unknown ids: refused, nothing changes", async () => {
  const watch = watchPrototypes();
  try {
    const { engine } = await setup();
    const gate = new Gate();
    await engine.setPlan(
      plan([{ id: "p", name: "P", strategy: "serial", steps: [gate.step("a"), gate.step("b")] }]),
    );
    engine.start();
    await gate.running(1);
    await engine.pause("deploy");
    const steps: unknown[] = [];
    engine.on("step", (...args) => steps.push(args));
    const before = JSON.stringify(engine.view("deploy"));
    const names = [
      "__proto__",
      "constructor",
      "toString",
      "valueOf",
      "hasOwnProperty",
      "prototype",
    ];
    const is = (code: string) => (e: unknown) => e instanceof PlanError && e.code === code;
    for (const id of names) {
      await assert.rejects(engine.forceComplete("deploy", id), is("UNKNOWN_STEP"), id);
      await assert.rejects(engine.restartStep("deploy", id), is("UNKNOWN_STEP"), id);
      await assert.rejects(engine.pause("deploy", id), is("UNKNOWN_PHASE"), id);
      await assert.rejects(engine.resume("deploy", id), is("UNKNOWN_PHASE"), id);
      assert.throws(() => engine.view(id), is("UNKNOWN_PLAN"), id);
      await assert.rejects(engine.forceComplete(id, "a"), is("UNKNOWN_PLAN"), id);
    }
    assert.deepEqual(watch.changes(), [], "no built-in object was touched");
    assert.deepEqual(steps, [], "no step event for an unknown step");
    assert.equal(JSON.stringify(engine.view("deploy")), before);
    // The plan still works: resumed, its next step starts and it completes.
    await engine.resume("deploy");
    gate.release(0);
    await gate.running(2);
    gate.release(1);
    await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  } finally {
    watch.restore();
  }
});

test("a plan may have steps and phases named like prototype properties", async () => {
  log.length = 0;
  const { engine, dir } = await setup();
  await engine.setPlan(
    plan([
      {
        id: "__proto__",
        name: "odd",
        strategy: "serial",
        steps: [recording("__proto__"), recording("constructor")],
      },
    ]),
  );
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log, ["__proto__", "constructor"]);
  await engine.restartStep("deploy", "__proto__");
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await engine.stop();
  // And it reads back after a restart.
  const again = await setup({ dir });
  await again.engine.setPlan(
    plan([
      {
        id: "__proto__",
        name: "odd",
        strategy: "serial",
        steps: [recording("__proto__"), recording("constructor")],
      },
    ]),
  );
  const v = again.engine.view("deploy");
  assert.deepEqual(
    v.phases[0]!.steps.map((s) => [s.id, s.status, s.attempts]),
    [
      ["__proto__", "COMPLETE", 1],
      ["constructor", "COMPLETE", 1],
    ],
  );
});

test("a step that exceeds its timeout fails and is retried", async () => {
  const { engine } = await setup();
  let n = 0;
  await engine.setPlan(
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [
          {
            id: "slow",
            name: "slow",
            timeoutMs: 50,
            run: (ctx) =>
              new Promise<void>((resolve, reject) => {
                if (++n > 1) return resolve();
                ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error));
              }),
          },
        ],
      },
    ]),
  );
  const errors: string[] = [];
  engine.on("step", (_p, _ph, s) => s.status === "ERROR" && errors.push(s.lastError!));
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(errors, ["step timed out after 50 ms"]);
});

test("progress survives a restart: finished steps stay done, the interrupted one runs again", async () => {
  const first = await setup();
  const gate = new Gate();
  const def = (g: Gate) =>
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [recording("done-before"), g.step("interrupted"), recording("later")],
      },
    ]);
  log.length = 0;
  await first.engine.setPlan(def(gate));
  first.engine.start();
  await gate.running(1);
  await first.engine.stop();
  await first.store.close();
  cleanups.length = 0;
  const second = await setup({ dir: first.dir });
  const gate2 = new Gate();
  await second.engine.setPlan(def(gate2));
  const before = second.engine.view("deploy").phases[0]!.steps;
  assert.equal(before[0]!.status, "COMPLETE");
  assert.equal(before[1]!.status, "PENDING");
  second.engine.start();
  await gate2.running(1);
  assert.equal(gate2.runs[0]!.attempt, 2, "the attempt count is persisted");
  gate2.release(0);
  await second.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log, ["done-before", "later"]);
});

test("recomputing a plan keeps progress by step id, adds new steps and drops removed ones", async () => {
  log.length = 0;
  const { engine } = await setup();
  await engine.setPlan(
    plan([{ id: "p", name: "P", strategy: "parallel", steps: [recording("x"), recording("y")] }]),
  );
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await engine.setPlan(
    plan([{ id: "p", name: "P", strategy: "parallel", steps: [recording("x"), recording("z")] }]),
  );
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(
    v.phases[0]!.steps.map((s) => s.id),
    ["x", "z"],
  );
  assert.deepEqual(log.sort(), ["x", "y", "z"]);
});

test("a step that leaves the plan while it runs keeps its progress until it ends and the plan changes", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  const phase = (steps: StepDefinition[]): PhaseDefinition => ({
    id: "p",
    name: "P",
    strategy: "parallel",
    steps,
  });
  await engine.setPlan(plan([phase([gate.step("x", { fingerprint: "f1" })])]));
  engine.start();
  await gate.running(1);
  await engine.setPlan(plan([phase([])]));
  assert.equal(engine.progressOf("deploy", "x")?.status, "IN_PROGRESS");
  assert.equal(engine.progressOf("deploy", "x")?.fingerprint, "f1");
  // Its end is told by the plan's next view (it is no step of the plan any more).
  const ended = once(engine, "plan");
  gate.release(0);
  await withDeadline(ended, 5000, "x done");
  assert.equal(engine.progressOf("deploy", "x")?.status, "COMPLETE");
  // A copy: the caller cannot change the engine's record.
  (engine.progressOf("deploy", "x") as { status: string }).status = "ERROR";
  assert.equal(engine.progressOf("deploy", "x")?.status, "COMPLETE");
  await engine.setPlan(plan([phase([])]));
  assert.equal(engine.progressOf("deploy", "x"), undefined, "forgotten with the next plan");
  assert.equal(engine.progressOf("nope", "x"), undefined);
});

test("a finished step shows its own final words, or none, not its last progress message", async () => {
  const { engine } = await setup();
  const phase: PhaseDefinition = {
    id: "p",
    name: "P",
    strategy: "parallel",
    steps: [
      {
        id: "says",
        name: "says",
        run: async (ctx) => {
          ctx.progress("downloading hunter2");
          return "installed lia 2.0 with hunter2";
        },
      },
      {
        id: "quiet",
        name: "quiet",
        run: async (ctx) => {
          ctx.progress("downloading");
        },
      },
    ],
  };
  await engine.setPlan(plan([phase]));
  engine.start();
  const v = await engine.waitFor("deploy", (x) => x.status === "COMPLETE", 5000);
  const steps = new Map(v.phases[0]!.steps.map((s) => [s.id, s]));
  assert.equal(steps.get("says")!.message, "installed lia 2.0 with [redacted]");
  assert.equal(steps.get("quiet")!.message, undefined);
});

test("steps of different plans on the same asset never run at the same time", async () => {
  const { engine } = await setup();
  let active = 0;
  let maxActive = 0;
  const busy = (id: string): StepDefinition => ({
    id,
    name: id,
    asset: "agent-1",
    run: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setImmediate(r));
      active--;
    },
  });
  await engine.setPlan({
    id: "deploy",
    name: "D",
    strategy: "parallel",
    phases: [{ id: "p", name: "P", strategy: "parallel", steps: [busy("d1"), busy("d2")] }],
  });
  await engine.setPlan({
    id: "expand",
    name: "E",
    strategy: "parallel",
    phases: [{ id: "p", name: "P", strategy: "parallel", steps: [busy("e1")] }],
  });
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await engine.waitFor("expand", (v) => v.status === "COMPLETE", 5000);
  assert.equal(maxActive, 1);
});

test("invalid plan definitions are refused with a clear reason", async () => {
  const { engine } = await setup();
  const s = recording("s");
  await assert.rejects(
    engine.setPlan(
      plan([
        { id: "a", name: "A", strategy: "serial", steps: [s] },
        { id: "a", name: "A", strategy: "serial", steps: [] },
      ]),
    ),
    /duplicate phase 'a'/,
  );
  await assert.rejects(
    engine.setPlan(plan([{ id: "a", name: "A", strategy: "serial", steps: [s, s] }])),
    /duplicate step 's'/,
  );
  await assert.rejects(
    engine.setPlan(plan([{ id: "a", name: "A", strategy: "serial", dependsOn: ["x"], steps: [] }])),
    /unknown phase 'x'/,
  );
  await assert.rejects(
    engine.setPlan(
      plan(
        [
          { id: "a", name: "A", strategy: "serial", dependsOn: ["b"], steps: [] },
          { id: "b", name: "B", strategy: "serial", dependsOn: ["a"], steps: [] },
        ],
        "parallel",
      ),
    ),
    /cycle/,
  );
});

// ---- fingerprints: a step runs again when its inputs change ----------------------------

/** A one-phase plan of steps with these fingerprints, each run logged as `id@fingerprint`. */
function fingerprinted(
  fps: Record<string, string | undefined>,
  extra: Partial<StepDefinition> = {},
) {
  return plan([
    {
      id: "p",
      name: "P",
      strategy: "parallel",
      steps: Object.entries(fps).map(([id, fp]) => ({
        id,
        name: id,
        ...(fp !== undefined ? { fingerprint: fp } : {}),
        run: async () => {
          log.push(`${id}@${fp ?? "-"}`);
        },
        ...extra,
      })),
    },
  ]);
}

const stepOf = (engine: PlanEngine, id: string) =>
  engine
    .view("deploy")
    .phases.flatMap((p) => p.steps)
    .find((s) => s.id === id)!;

test("a finished step whose fingerprint changed runs again; unchanged ones stay done", async () => {
  log.length = 0;
  const { engine } = await setup();
  await engine.setPlan(fingerprinted({ a: "1", b: "1", c: undefined }));
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(stepOf(engine, "a").fingerprint, "1", "recorded with the run");
  // Every run's last event is out once the engine has stopped (then it goes on).
  await engine.stop();
  engine.start();
  const events: [string, string, string | undefined][] = [];
  engine.on("step", (_p, _ph, s) => events.push([s.id, s.status, s.message]));
  // The same definitions again: nothing runs.
  await engine.setPlan(fingerprinted({ a: "1", b: "1", c: undefined }));
  assert.equal(engine.view("deploy").status, "COMPLETE");
  assert.deepEqual(events, []);
  // a's inputs changed: it alone runs again, with the new definition.
  await engine.setPlan(fingerprinted({ a: "2", b: "1", c: undefined }));
  assert.deepEqual(
    events[0],
    ["a", "PENDING", "inputs changed: runs again"],
    "the reset is a step event",
  );
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log.sort(), ["a@1", "a@2", "b@1", "c@-"]);
  const a = v.phases[0]!.steps.find((s) => s.id === "a")!;
  assert.equal(a.fingerprint, "2");
  assert.equal(a.attempts, 1, "a fresh count of attempts");
  assert.equal(a.message, undefined);
});

test("a force-completed step stays done until its inputs change, then runs", async () => {
  log.length = 0;
  const { engine } = await setup();
  const gate = new Gate();
  await engine.setPlan(
    plan([
      { id: "p", name: "P", strategy: "serial", steps: [gate.step("s", { fingerprint: "1" })] },
    ]),
  );
  engine.start();
  await gate.running(1);
  await engine.forceComplete("deploy", "s");
  assert.equal(stepOf(engine, "s").fingerprint, "1");
  await engine.setPlan(
    plan([
      { id: "p", name: "P", strategy: "serial", steps: [gate.step("s", { fingerprint: "1" })] },
    ]),
  );
  assert.equal(stepOf(engine, "s").status, "COMPLETE");
  assert.equal(stepOf(engine, "s").forced, true);
  await engine.setPlan(
    plan([
      { id: "p", name: "P", strategy: "serial", steps: [gate.step("s", { fingerprint: "2" })] },
    ]),
  );
  await gate.running(2);
  const s = stepOf(engine, "s");
  assert.equal(s.status, "IN_PROGRESS");
  assert.equal(s.forced, undefined, "no longer the operator's");
  gate.release(1);
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
});

test("a running step whose fingerprint changes is interrupted and run with the new definition", async () => {
  const { engine } = await setup();
  const gate = new Gate();
  const def = (fp: string) =>
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [gate.step("s", { fingerprint: fp, name: `s with ${fp}` })],
      },
    ]);
  await engine.setPlan(def("1"));
  engine.start();
  await gate.running(1);
  assert.equal(stepOf(engine, "s").fingerprint, "1");
  await engine.setPlan(def("2"));
  assert.equal(gate.runs[0]!.signal.aborted, true, "the old run is interrupted");
  await gate.running(2);
  assert.equal(gate.runs[1]!.attempt, 1, "a new run, not a retry");
  const s = stepOf(engine, "s");
  assert.equal(s.status, "IN_PROGRESS");
  assert.equal(s.fingerprint, "2");
  gate.release(1);
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(v.phases[0]!.steps[0]!.lastError, undefined, "the interruption is no failure");
});

test("a step failing with the old inputs is tried again at once with the new ones", async () => {
  const { engine } = await setup();
  const runs: string[] = [];
  const def = (fp: string) =>
    plan([
      {
        id: "p",
        name: "P",
        strategy: "serial",
        steps: [
          {
            id: "s",
            name: "s",
            fingerprint: fp,
            run: async () => {
              runs.push(fp);
              if (fp === "1") throw new PermanentStepError("pool p1 does not exist");
            },
          },
        ],
      },
    ]);
  await engine.setPlan(def("1"));
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "ERROR", 5000);
  await engine.setPlan(def("2"));
  const v = await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(runs, ["1", "2"]);
  assert.equal(v.phases[0]!.steps[0]!.attempts, 1);
});

test("fingerprints persist: a new engine on the same store runs again only what changed", async () => {
  log.length = 0;
  const first = await setup();
  await first.engine.setPlan(fingerprinted({ a: "1", b: "1" }));
  first.engine.start();
  await first.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await first.engine.stop();
  await first.store.close();
  cleanups.length = 0;
  log.length = 0;
  const second = await setup({ dir: first.dir });
  await second.engine.setPlan(fingerprinted({ a: "1", b: "2" }));
  assert.equal(stepOf(second.engine, "a").status, "COMPLETE");
  assert.equal(stepOf(second.engine, "b").status, "PENDING");
  second.engine.start();
  await second.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log, ["b@2"]);
});

test("progress from before fingerprints adopts the current ones: nothing re-runs on upgrade", async () => {
  log.length = 0;
  const first = await setup();
  // The previous version: no fingerprints at all.
  await first.engine.setPlan(fingerprinted({ a: undefined, b: undefined }));
  first.engine.start();
  await first.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await first.engine.stop();
  await first.store.close();
  cleanups.length = 0;
  log.length = 0;
  const second = await setup({ dir: first.dir });
  await second.engine.setPlan(fingerprinted({ a: "1", b: "1" }));
  assert.equal(second.engine.view("deploy").status, "COMPLETE");
  assert.equal(stepOf(second.engine, "a").fingerprint, "1", "adopted");
  second.engine.start();
  // Adopted for good (stored): a later change is seen, even by the next process.
  await second.engine.stop();
  await second.store.close();
  cleanups.length = 0;
  const third = await setup({ dir: first.dir });
  await third.engine.setPlan(fingerprinted({ a: "1", b: "2" }));
  third.engine.start();
  await third.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.deepEqual(log, ["b@2"]);
});
