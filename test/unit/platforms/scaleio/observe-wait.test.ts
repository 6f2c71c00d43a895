// Waiting on the observed cluster: a source that can look at once has a wait's first look
// taken at once (not after the settle meant for bursts of changes); a look that misses asks
// for the next one the settled way. A source without it is asked as before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ObservedCluster } from "../../../../src/platforms/scaleio/observe/model.js";
import { observedUntil } from "../../../../src/platforms/scaleio/observe/wait.js";
import { withDeadline } from "../../../support/wait.js";

class Source extends EventEmitter {
  asks: string[] = [];
  ready = false;
  observeSoon(): void {
    this.asks.push("soon");
  }
  look(): void {
    const now = Date.now();
    this.emit("observed", { at: now, startedAt: now, ready: this.ready } as never, []);
  }
}

class NowSource extends Source {
  observeNow(): void {
    this.asks.push("now");
  }
}

const ctx = () => ({ signal: new AbortController().signal });
const ready = (o: ObservedCluster) => (o as unknown as { ready: boolean }).ready;

test("a wait's first look is asked for at once when the source can; a miss asks the settled way", async () => {
  const source = new NowSource();
  const done = observedUntil(source, ready, "ready", ctx());
  assert.deepEqual(source.asks, ["now"]);
  source.look(); // not yet
  assert.deepEqual(source.asks, ["now", "soon"]);
  source.ready = true;
  source.look();
  await withDeadline(done, 2000, "the wait ends with the look that shows it");
});

test("a source that cannot look at once is asked to look soon", async () => {
  const source = new Source();
  const done = observedUntil(source, ready, "ready", ctx());
  assert.deepEqual(source.asks, ["soon"]);
  source.ready = true;
  source.look();
  await withDeadline(done, 2000, "the wait ends");
});
