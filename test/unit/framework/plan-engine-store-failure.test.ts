// The plan engine when its store refuses a write (ZooKeeper away past the write's deadline,
// a full disk): the process goes on (the failure is reported, never thrown out of the
// engine), a step whose start could not be recorded runs again later, and a step's outcome
// that could not be recorded is recorded once the store takes writes again.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError, type StateStore } from "../../../src/store/store.js";
import { PlanEngine } from "../../../src/framework/plan/engine.js";
import { PlanProgressStore } from "../../../src/framework/plan/progress-store.js";
import type { PlanDefinition, StepContext } from "../../../src/framework/plan/types.js";
import { waitUntil } from "../../support/wait.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Errors that escaped to the process: each one would have ended the scheduler. */
const escaped: unknown[] = [];
const onRejection = (reason: unknown) => escaped.push(reason);
process.on("unhandledRejection", onRejection);
process.on("uncaughtException", onRejection);
afterEach(() => {
  escaped.length = 0;
});

/** A file store whose next `failures` writes of plan progress fail as ZooKeeper's would. */
async function flakyStore(): Promise<{ store: StateStore; fail(n: number): void; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "plan-flaky-"));
  const inner = await FileStateStore.open(dir);
  let failures = 0;
  const refuse = (key: string) => {
    if (failures <= 0 || !key.startsWith("plans/")) return false;
    failures -= 1;
    return true;
  };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "set") {
        return async (key: string, value: unknown) => {
          if (refuse(key)) throw new StoreError("UNAVAILABLE", `no ZooKeeper session (${key})`);
          return target.set(key, value);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  cleanups.push(() => inner.close());
  return { store, fail: (n) => (failures = n), dir };
}

function onePlan(run: (ctx: StepContext) => Promise<void>): PlanDefinition {
  return {
    id: "deploy",
    name: "Deploy",
    strategy: "serial",
    phases: [{ id: "p", name: "P", strategy: "serial", steps: [{ id: "s", name: "s", run }] }],
  };
}

async function stored(store: StateStore): Promise<string | undefined> {
  return (await PlanProgressStore.load(store, "deploy"))?.steps.s?.status;
}

test("a step's outcome the store could not record: the engine goes on, says so, and records it once the store takes writes", async () => {
  const { store, fail } = await flakyStore();
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  cleanups.push(() => engine.stop());
  const errors: Error[] = [];
  engine.on("error", (e) => errors.push(e));
  let release: (() => void) | undefined;
  const started = new Promise<void>((r) => {
    void engine.setPlan(
      onePlan(
        () =>
          new Promise<void>((done) => {
            release = done;
            r();
          }),
      ),
    );
  });
  engine.start();
  await started;
  await waitUntil(async () => (await stored(store)) === "IN_PROGRESS", { what: "start stored" });
  fail(2);
  release!();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  await waitUntil(async () => (await stored(store)) === "COMPLETE", {
    timeoutMs: 5000,
    what: "the outcome recorded once the store takes writes again",
  });
  assert.ok(errors.length >= 1, "the failed write was reported");
  assert.match(errors[0]!.message, /no ZooKeeper session/);
  assert.deepEqual(escaped, [], "nothing escaped the engine");
});

test("with nobody listening for its errors, a failed progress write does not end the process", async () => {
  const { store, fail } = await flakyStore();
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  cleanups.push(() => engine.stop());
  let runs = 0;
  await engine.setPlan(
    onePlan(async () => {
      runs += 1;
    }),
  );
  // The start of the step cannot be recorded: it is not run, and runs later.
  fail(1);
  engine.start();
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 5000);
  assert.equal(runs, 1);
  await waitUntil(async () => (await stored(store)) === "COMPLETE", { what: "outcome stored" });
  assert.deepEqual(escaped, [], "nothing escaped the engine");
});
