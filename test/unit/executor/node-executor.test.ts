// The node executor's updates as the scheduler sees them: a step that ends quickly sends only
// its terminal update; one that runs on reports TASK_RUNNING first (with its newest progress
// line), then the terminal update.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { z } from "zod";
import { NodeExecutor } from "../../../src/executor/executor.js";
import { HandlerRegistry } from "../../../src/executor/run-step.js";
import { defineHandler } from "../../../src/framework/node-task/handler.js";
import { NODE_TASK_PROTOCOL, encodeSpec } from "../../../src/framework/node-task/protocol.js";
import type { ExecutorClient } from "../../../src/mesos/executor/index.js";
import type { HostProfile } from "../../../src/host/profile.js";
import type { TaskInfo, TaskStatus } from "../../../src/mesos/types/common.js";
import { waitForEvent } from "../../support/wait.js";

type Sent = Pick<TaskStatus, "state" | "message"> & { task_id: { value: string } };

/** Stands in for the agent connection: records updates, acknowledges none by itself. */
class FakeClient extends EventEmitter {
  readonly sent: Sent[] = [];
  update(s: Sent): Promise<void> {
    this.sent.push(s);
    this.emit("sent", s);
    return Promise.resolve();
  }
  unacknowledgedUpdates(): Sent[] {
    return [];
  }
  start(): void {}
}

const silent = { info() {}, warn() {}, error() {}, fatal() {}, debug() {} };

function executor(
  client: FakeClient,
  runningAfterMs?: number,
  progressEveryMs?: number,
): NodeExecutor {
  let release: (() => void) | undefined;
  const handlers = [
    defineHandler({
      kind: "test.quick",
      params: z.object({}),
      run: () => Promise.resolve({ ok: 1 }),
    }),
    defineHandler({
      kind: "test.chatty",
      params: z.object({}),
      // Three lines at once after the first went out, then ends once the next one is sent.
      run: (_p, ctx) =>
        new Promise((resolve) => {
          ctx.progress("line 1");
          client.on("sent", (s: Sent) => {
            if (s.message === "line 1") {
              ctx.progress("line 2");
              ctx.progress("line 3");
            } else if (s.state === "TASK_RUNNING") resolve({ ok: 3 });
          });
        }),
    }),
    defineHandler({
      kind: "test.slow",
      params: z.object({}),
      // Runs until the executor has told the scheduler it runs: no timing guess in the test.
      run: (_p, ctx) => {
        ctx.progress("halfway");
        return new Promise((resolve) => {
          release = () => resolve({ ok: 2 });
          client.on("sent", (s: Sent) => {
            if (s.state === "TASK_RUNNING") release?.();
          });
        });
      },
    }),
  ];
  return new NodeExecutor({
    client: client as unknown as ExecutorClient,
    registry: new HandlerRegistry(handlers),
    host: {} as HostProfile,
    fetchSecrets: () => Promise.reject(new Error("no secrets here")),
    log: silent as never,
    ...(runningAfterMs !== undefined ? { runningAfterMs } : {}),
    ...(progressEveryMs !== undefined ? { progressEveryMs } : {}),
  });
}

function task(id: string, kind: string): TaskInfo {
  return {
    name: id,
    task_id: { value: id },
    agent_id: { value: "a1" },
    resources: [],
    data: encodeSpec({ protocol: NODE_TASK_PROTOCOL, stepId: id, attempt: 1, kind, params: {} }),
  } as TaskInfo;
}

async function terminalOf(client: FakeClient, id: string): Promise<void> {
  const done = (s: Sent) => s.task_id.value === id && s.state !== "TASK_RUNNING";
  if (client.sent.some(done)) return;
  await waitForEvent<[Sent]>(client, "sent", { timeoutMs: 10_000, filter: done });
}

test("a step that ends at once sends only TASK_FINISHED", async () => {
  const client = new FakeClient();
  executor(client);
  client.emit("launch", task("q1", "test.quick"));
  await terminalOf(client, "q1");
  assert.deepEqual(
    client.sent.map((s) => s.state),
    ["TASK_FINISHED"],
  );
});

test("a step that runs on reports TASK_RUNNING with its newest progress line, then TASK_FINISHED", async () => {
  const client = new FakeClient();
  executor(client, 20);
  client.emit("launch", task("s1", "test.slow"));
  await terminalOf(client, "s1");
  assert.deepEqual(
    client.sent.map((s) => [s.state, s.message]),
    [
      ["TASK_RUNNING", "halfway"],
      ["TASK_FINISHED", "test.slow done"],
    ],
  );
});

test("progress lines go out at most once per interval, the newest one", async () => {
  const client = new FakeClient();
  const at = new Map<string, number>();
  client.on("sent", (s: Sent) => at.set(s.message ?? "", Date.now()));
  executor(client, 0, 300);
  client.emit("launch", task("c1", "test.chatty"));
  await terminalOf(client, "c1");
  assert.deepEqual(
    client.sent.map((s) => [s.state, s.message]),
    [
      ["TASK_RUNNING", "line 1"],
      ["TASK_RUNNING", "line 3"],
      ["TASK_FINISHED", "test.chatty done"],
    ],
  );
  assert.ok(at.get("line 3")! - at.get("line 1")! >= 295, "the second line waited its turn");
});
