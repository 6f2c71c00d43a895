// The dashboard's model at scale: a step event touches the step, its plan's counts and its
// agent through indexes, says exactly which rows and cards changed, and finished steps share
// one log line per run of them.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import {
  applyEvent,
  nodeStatus,
  seedLog,
  setSnapshot,
  state,
  stepOf,
  takeChanges,
  // @ts-expect-error: the web UI is plain JavaScript without type declarations.
} from "../../../web/model.js";

interface Entry {
  kind?: string;
  msg: string;
  items?: { text: string; agent: string }[];
}

const AGENTS = ["a1", "a2", "a3"];

function snapshot() {
  setSnapshot({
    summary: null,
    nodes: AGENTS.map((id, i) => ({
      agentId: id,
      hostname: `host-${i + 1}`,
      ip: `127.0.0.${i + 1}`,
      lost: false,
      steps: [
        {
          planId: "deploy",
          phaseId: "sds",
          stepId: `sds/${id}`,
          name: `sds/${id}`,
          status: "PENDING",
          updatedAt: 1,
        },
      ],
    })),
    plans: [
      {
        id: "deploy",
        name: "deploy",
        status: "PENDING",
        paused: false,
        progress: { complete: 0, total: 3 },
        phases: [
          {
            id: "sds",
            name: "sds",
            status: "PENDING",
            paused: false,
            steps: AGENTS.map((id) => ({
              id: `sds/${id}`,
              name: `sds/${id}`,
              status: "PENDING",
              updatedAt: 1,
            })),
          },
        ],
      },
    ],
  });
  seedLog([]);
  takeChanges();
}

const step = (id: string, status: string, updatedAt: number, lastError?: string) =>
  applyEvent("step", {
    planId: "deploy",
    phaseId: "sds",
    step: {
      id: `sds/${id}`,
      name: `sds/${id}`,
      status,
      updatedAt,
      ...(lastError ? { lastError } : {}),
    },
  });

beforeEach(snapshot);

test("a step event changes its step, its plan's counts and its agent, and says which", () => {
  assert.deepEqual(step("a2", "COMPLETE", 5), ["plans", "topology", "log"]);
  assert.equal(stepOf("deploy", "sds/a2").status, "COMPLETE");
  const plan = state.plans.get("deploy");
  assert.deepEqual(plan.progress, { complete: 1, total: 3 });
  assert.equal(plan.phases[0].status, "IN_PROGRESS");
  assert.equal(state.nodes.get("a2").steps[0].status, "COMPLETE");
  assert.equal(nodeStatus(state.nodes.get("a2")), "ok");
  assert.equal(nodeStatus(state.nodes.get("a1")), "in-progress");
  const c = takeChanges();
  assert.deepEqual([...c.nodes], ["a2"]);
  assert.deepEqual([...c.steps], ["deploy|sds/a2"]);
  assert.deepEqual([...c.plans], ["deploy"]);
  assert.equal(c.all, false);
  // Drawn: nothing left to draw.
  assert.equal(takeChanges().steps.size, 0);
});

test("an older step event is ignored; a failure marks its agent failed", () => {
  step("a1", "ERROR", 10, "disk is read-only");
  assert.deepEqual(step("a1", "IN_PROGRESS", 9), []);
  const node = state.nodes.get("a1");
  assert.equal(nodeStatus(node), "error");
  assert.equal(node.lastError, "disk is read-only");
  step("a1", "COMPLETE", 11);
  assert.equal(nodeStatus(node), "ok");
  assert.equal(node.lastError, undefined);
});

test("finished steps share one log line until another line comes", () => {
  const before = 0;
  step("a1", "COMPLETE", 5);
  step("a2", "COMPLETE", 6);
  applyEvent("log", { time: 7, level: "warn", msg: "something else" });
  step("a3", "COMPLETE", 8);
  const lines = (state.log as Entry[]).slice(before);
  assert.deepEqual(
    lines.map((l) => l.kind ?? l.msg),
    ["done", "something else", "done"],
  );
  assert.deepEqual(
    lines[0]!.items!.map((i) => i.text),
    ["deploy: sds/a1 on host-1", "deploy: sds/a2 on host-2"],
  );
  // Each item knows its agent, so the log can be narrowed to one.
  assert.match(lines[2]!.items![0]!.agent, /host-3 127\.0\.0\.3 a3/);
  // A step finishing again after a restart is news again; one still complete is not.
  step("a3", "COMPLETE", 9);
  assert.equal(lines.length, (state.log as Entry[]).slice(before).length);
});
