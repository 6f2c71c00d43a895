// Bad input never crashes the master: random call bodies (valid envelopes with random
// contents, and random JSON) get 4xx/5xx answers or 202, and the master keeps serving.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Master } from "../../../sim/mesos/master/master.js";
import { FRAMEWORK, Scheduler, http } from "./helpers.js";

let master: Master;
let s: Scheduler;

before(async () => {
  master = new Master({ host: "127.0.0.1" });
  await master.start();
  s = await Scheduler.subscribe(master.url);
});
after(async () => {
  s.close();
  await master.stop();
});

const TYPES = [
  "SUBSCRIBE",
  "TEARDOWN",
  "ACCEPT",
  "DECLINE",
  "ACCEPT_INVERSE_OFFERS",
  "DECLINE_INVERSE_OFFERS",
  "REVIVE",
  "KILL",
  "SHUTDOWN",
  "ACKNOWLEDGE",
  "ACKNOWLEDGE_OPERATION_STATUS",
  "RECONCILE",
  "RECONCILE_OPERATIONS",
  "MESSAGE",
  "REQUEST",
  "SUPPRESS",
  "UPDATE_FRAMEWORK",
  "UNKNOWN",
  "BOGUS",
];

test("random scheduler calls never crash the master", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...TYPES.filter((t) => t !== "TEARDOWN")),
      fc.jsonValue(),
      async (type, body) => {
        const r = await s.call(type, body as object);
        assert.ok(
          [200, 202, 400, 403, 409, 501].includes(r.status),
          `${type}: ${r.status} ${r.body}`,
        );
        assert.notEqual(r.status, 500);
      },
    ),
    { numRuns: 150 },
  );
  await fc.assert(
    fc.asyncProperty(fc.string(), async (text) => {
      const r = await http(`${master.url}/api/v1/scheduler`, { body: text });
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} for ${JSON.stringify(text)}`);
    }),
    { numRuns: 100 },
  );
  // Structured but wrong ACCEPTs.
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        offer_ids: fc.array(fc.record({ value: fc.string() }), { maxLength: 3 }),
        operations: fc.array(
          fc.record({
            type: fc.constantFrom(
              "LAUNCH",
              "LAUNCH_GROUP",
              "RESERVE",
              "UNRESERVE",
              "CREATE",
              "DESTROY",
              "X",
            ),
            launch: fc.jsonValue(),
          }),
          { maxLength: 3 },
        ),
      }),
      async (accept) => {
        const r = await s.call("ACCEPT", accept);
        assert.ok([202, 400].includes(r.status), `${r.status} ${r.body}`);
      },
    ),
    { numRuns: 100 },
  );
  assert.equal((await s.call("REVIVE")).status, 202, "the subscription still works");
  const again = await Scheduler.subscribe(master.url, FRAMEWORK);
  assert.ok(again.frameworkId);
  again.close();
});
