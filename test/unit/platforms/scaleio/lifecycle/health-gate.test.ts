// The lifecycle health gate: a rebuild or a critical condition holds the next step, which
// says why (in the rebuild's own words, updated as they change); warnings do not; a step
// may ignore its own object; only an observation begun after the wait began opens it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ConditionFinding } from "../../../../../src/framework/health/types.js";
import type { ObservedCluster } from "../../../../../src/platforms/scaleio/observe/model.js";
import {
  gateReason,
  waitForGate,
} from "../../../../../src/platforms/scaleio/lifecycle/health-gate.js";
import { withDeadline } from "../../../../support/wait.js";

const finding = (
  type: string,
  severity: "warning" | "critical",
  object: string,
  message: string,
): ConditionFinding => ({ type, severity, object, message });

const rebuilding = finding("Rebuilding", "warning", "pool/pd/p1", "pool pd/p1 rebuilding 43 %");

test("a rebuild or a critical condition holds the gate, with why; warnings do not", () => {
  assert.equal(gateReason([]), undefined);
  assert.equal(
    gateReason([finding("CapacityAlmostFull", "warning", "pool/pd/p1", "p1 at 85 %")]),
    undefined,
  );
  assert.equal(gateReason([rebuilding]), "pool pd/p1 rebuilding 43 %");
  const down = finding("SdsDisconnected", "critical", "sds/10.0.0.2", "SDS at 10.0.0.2 down");
  assert.equal(gateReason([down]), "1 critical condition: SDS at 10.0.0.2 down");
  assert.equal(gateReason([down], { ignore: (f) => f.object === "sds/10.0.0.2" }), undefined);
  assert.match(
    gateReason([down, down, down, down]) ?? "",
    /^4 critical conditions: .*; …$/,
    "a long list is cut",
  );
});

class Source extends EventEmitter {
  asks = 0;
  observeSoon() {
    this.asks++;
  }
  look(findings: ConditionFinding[], startedAt = Date.now()) {
    this.emit("observed", { at: Date.now(), startedAt } as ObservedCluster, findings);
  }
}

test("a waiting step says why until an observation begun after it opens the gate", async () => {
  const source = new Source();
  const said: string[] = [];
  const ac = new AbortController();
  let open = false;
  const waiting = waitForGate(source, {
    signal: ac.signal,
    progress: (m) => said.push(m),
  }).then(() => (open = true));
  assert.equal(source.asks, 1, "asks for a look at once");
  source.look([rebuilding]);
  source.look([rebuilding]);
  source.look([{ ...rebuilding, message: "pool pd/p1 rebuilding 80 %" }]);
  // A look that began before the wait: it cannot open the gate.
  source.look([], Date.now() - 60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(open, false);
  source.look([]);
  await withDeadline(waiting, 5000, "the gate open");
  assert.deepEqual(said, [
    "waiting: pool pd/p1 rebuilding 43 %",
    "waiting: pool pd/p1 rebuilding 80 %",
  ]);
  assert.equal(source.listenerCount("observed"), 0, "no listener left behind");
});

test("a wait ends with the step's signal", async () => {
  const source = new Source();
  const ac = new AbortController();
  const waiting = waitForGate(source, { signal: ac.signal, progress: () => {} });
  source.look([rebuilding]);
  ac.abort(new Error("step interrupted"));
  await assert.rejects(waiting, /step interrupted/);
  assert.equal(source.listenerCount("observed"), 0);
});

/** A source that keeps its latest look, as the cluster's observer does. */
class KeepingSource extends Source {
  latest: ObservedCluster | undefined;
  findings: ConditionFinding[] = [];
  keep(findings: ConditionFinding[], startedAt: number) {
    this.latest = { at: startedAt + 10, startedAt } as ObservedCluster;
    this.findings = findings;
  }
}

test("with since, a look already there begun after that moment opens the gate without a new one", async () => {
  const source = new KeepingSource();
  const changed = Date.now() - 1_000;
  source.keep([], changed + 5);
  const said: string[] = [];
  await withDeadline(
    waitForGate(
      source,
      { signal: new AbortController().signal, progress: (m) => said.push(m) },
      { since: changed },
    ),
    5000,
    "the gate open on the look already there",
  );
  assert.equal(source.asks, 0, "no new look asked for");
  assert.deepEqual(said, []);
  assert.equal(source.listenerCount("observed"), 0, "no listener left behind");
});

test("with since, a look begun before that moment, or one that holds the gate, does not open it", async () => {
  const source = new KeepingSource();
  const changed = Date.now() - 1_000;
  // Begun before the change, or in the same millisecond: it cannot tell whether the change
  // is done.
  source.keep([], changed);
  const ac = new AbortController();
  let open = false;
  const before = waitForGate(
    source,
    { signal: ac.signal, progress: () => {} },
    { since: changed },
  ).then(() => (open = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(open, false, "an older look does not open the gate");
  assert.equal(source.asks, 1, "a new look is asked for");
  source.look([]);
  await withDeadline(before, 5000, "the gate open on a new look");

  // Begun after the change but showing a rebuild: the step waits, says why, and a new look
  // decides.
  source.keep([rebuilding], changed + 5);
  const said: string[] = [];
  open = false;
  const held = waitForGate(
    source,
    { signal: ac.signal, progress: (m) => said.push(m) },
    { since: changed },
  ).then(() => (open = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(open, false, "a rebuild seen after the change holds the gate");
  assert.deepEqual(said, ["waiting: pool pd/p1 rebuilding 43 %"]);
  source.look([]);
  await withDeadline(held, 5000, "the gate open once the rebuild is over");
  assert.equal(source.listenerCount("observed"), 0);
});
