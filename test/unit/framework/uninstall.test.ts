// The framework's side of an uninstall: a platform refusal persists nothing; an accepted one
// waits for the teardown plan, releases every reachable agent (a lost one is reported left
// behind), records "torn-down" before TEARDOWN, stops the scheduler and deletes every key of
// the store, the record last; a scheduler restarted after TEARDOWN only repeats it (Mesos
// answering that the framework is gone counts as done) and deletes what is left.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlanEngine } from "../../../src/framework/plan/engine.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { FrameworkRemovedError } from "../../../src/mesos/errors.js";
import {
  UNINSTALL_KEY,
  UNINSTALLED_KEY,
  Uninstaller,
  type UninstallSource,
  type UninstallSummary,
} from "../../../src/framework/uninstall.js";
import type { AgentRegistry } from "../../../src/framework/agents.js";
import type { Platform } from "../../../src/framework/scheduler.js";
import { withDeadline } from "../../support/wait.js";

const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;

class FakeClient extends EventEmitter {
  state = "subscribed";
  fatal: Error | undefined;
  calls: string[] = [];
  recordPhaseAtTeardown: string | undefined;
  onTeardown: () => Promise<void> = async () => {};
  start() {
    this.calls.push("start");
  }
  async teardown() {
    this.calls.push("teardown");
    await this.onTeardown();
    this.state = "stopped";
  }
}

async function fixture(platform: Partial<Platform> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "uninstall-test-"));
  const store = await FileStateStore.open(join(dir, "s"));
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  engine.start();
  const released: string[] = [];
  const client = new FakeClient();
  let stopped = 0;
  const src: UninstallSource = {
    engine,
    store,
    agents: {
      all: () => [
        { agentId: "a1", hostname: "h1" },
        { agentId: "a2", hostname: "h2" },
        { agentId: "a3", hostname: "h3", lostSince: 1 },
      ],
    } as unknown as AgentRegistry,
    platform: {
      name: "test",
      start: async () => {},
      recompute: async () => {},
      stop: async () => {},
      async uninstall() {
        await engine.setPlan({
          id: "teardown",
          name: "Uninstall",
          strategy: "serial",
          phases: [
            {
              id: "p",
              name: "p",
              strategy: "serial",
              steps: [{ id: "s", name: "s", run: async () => {} }],
            },
          ],
        });
        return { planId: "teardown" };
      },
      ...platform,
    } as Platform,
    frameworkInfo: { name: "fw" },
    frameworkId: "fw-0001",
    runner: {
      release: async (agentId) => {
        released.push(agentId);
      },
    },
    client: client as unknown as UninstallSource["client"],
    stop: async () => {
      stopped++;
      await engine.stop();
    },
  };
  return {
    src,
    store,
    engine,
    client,
    released,
    stopped: () => stopped,
    close: async () => {
      await engine.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("refused by the platform: nothing recorded, nothing released", async () => {
  const f = await fixture({
    uninstall: async () => {
      throw Object.assign(new Error("volumes exist"), { statusCode: 409, code: "VOLUMES_EXIST" });
    },
  });
  try {
    const u = new Uninstaller(f.src, { logger: silent });
    await assert.rejects(u.request({ destroyData: false }), /volumes exist/);
    assert.equal(await f.store.get(UNINSTALL_KEY), undefined);
    assert.equal(u.active, false);
    assert.deepEqual(f.released, []);
    assert.deepEqual(f.client.calls, []);
  } finally {
    await f.close();
  }
});

test("accepted: plan, release, torn-down recorded before TEARDOWN, state deleted, summary", async () => {
  const f = await fixture();
  try {
    await f.store.set("framework/id", { value: "fw-0001" });
    await f.store.set("scaleio/facts", []);
    let phaseAtTeardown: string | undefined;
    f.client.onTeardown = async () => {
      phaseAtTeardown = (await f.store.get<{ phase: string }>(UNINSTALL_KEY))?.phase;
    };
    const u = new Uninstaller(f.src, { logger: silent });
    const done = new Promise<UninstallSummary>((r) => u.onFinished(r));
    const rec = await u.request({ destroyData: true });
    assert.equal(rec.phase, "teardown");
    assert.equal(rec.destroyData, true);
    const s = await withDeadline(done, 5000, "the uninstall to finish");
    assert.deepEqual(f.released.sort(), ["a1", "a2"], "the lost agent is not waited for");
    assert.equal(phaseAtTeardown, "torn-down");
    assert.deepEqual(f.client.calls, ["teardown"]);
    assert.equal(f.stopped(), 1);
    assert.deepEqual(
      await f.store.list(""),
      [UNINSTALLED_KEY],
      "every key deleted but the tombstone",
    );
    const mark = await f.store.get<{ at: string; frameworkId?: string }>(UNINSTALLED_KEY);
    assert.equal(mark?.frameworkId, "fw-0001");
    assert.ok(!Number.isNaN(Date.parse(mark?.at ?? "")), "when it was uninstalled");
    assert.equal(s.tornDown, true);
    assert.deepEqual(s.leftBehind, ["h3"]);
    assert.match(
      s.line,
      /^uninstall complete: framework fw-0001 torn down in Mesos, 2 agent\(s\) released, state deleted; still holding resources of ours \(lost or not released in time\): h3$/,
    );
    assert.deepEqual(u.status(), { state: "finished" });
  } finally {
    await f.close();
  }
});

test("restarted after TEARDOWN: subscribes only to repeat it; 'removed' counts as done", async () => {
  const f = await fixture();
  try {
    await f.store.set(UNINSTALL_KEY, {
      phase: "torn-down",
      destroyData: false,
      planId: "teardown",
      startedAt: 1,
    });
    await f.store.set("plans/teardown", { id: "teardown", paused: false, pausedPhases: [] });
    f.client.state = "idle";
    f.client.start = () => {
      f.client.calls.push("start");
      // The master says the framework is gone.
      setImmediate(() => f.client.emit("fatal", new FrameworkRemovedError("framework removed")));
    };
    const u = new Uninstaller(f.src, { logger: silent });
    await u.load();
    assert.equal(u.tornDown, true);
    const done = new Promise<UninstallSummary>((r) => u.onFinished(r));
    u.resume();
    const s = await withDeadline(done, 5000, "the uninstall to finish");
    assert.deepEqual(f.client.calls, ["start"], "no TEARDOWN call: Mesos has it already");
    assert.deepEqual(f.released, [], "nothing released again");
    assert.equal(s.tornDown, true);
    assert.deepEqual(await f.store.list(""), [UNINSTALLED_KEY]);
  } finally {
    await f.close();
  }
});

test("a teardown plan without a record (a crash in between) is adopted and finished", async () => {
  const f = await fixture();
  try {
    await f.src.platform.uninstall!({ destroyData: false });
    const u = new Uninstaller(f.src, { logger: silent });
    assert.equal(await u.load(), undefined);
    const done = new Promise<UninstallSummary>((r) => u.onFinished(r));
    await u.adopt();
    assert.equal(u.active, true);
    await withDeadline(done, 5000, "the uninstall to finish");
    assert.deepEqual(f.client.calls, ["teardown"]);
    assert.deepEqual(await f.store.list(""), [UNINSTALLED_KEY]);
  } finally {
    await f.close();
  }
});
