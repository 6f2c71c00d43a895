import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMessage,
  nanosFromMillis,
  parseMesosJson,
  stringifyMesosJson,
  toBigInt,
} from "../../../src/mesos/json.js";
import { fromBase64, isStatusUuid, newStatusUuid, toBase64 } from "../../../src/mesos/bytes.js";
import { MesosProtocolError } from "../../../src/mesos/errors.js";
import {
  TASK_STATES,
  isTerminalTaskState,
  type Offer,
  type SchedulerCall,
  type TaskInfo,
} from "../../../src/mesos/types/index.js";

test("epoch nanoseconds beyond 2^53 keep every digit through parse and stringify", () => {
  const text =
    '{"unavailability":{"start":{"nanoseconds":1735689600000000123},"duration":{"nanoseconds":7200000000000}}}';
  const v = parseMesosJson(text) as { unavailability: Offer["unavailability"] };
  assert.equal(v.unavailability!.start.nanoseconds, 1735689600000000123n);
  assert.equal(typeof v.unavailability!.duration!.nanoseconds, "number");
  assert.equal(stringifyMesosJson(v), text);
});

test("property: any int64 survives a JSON round trip exactly", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
      const text = `{"nanoseconds":${n}}`;
      const parsed = parseMesosJson(text) as { nanoseconds: number | bigint };
      assert.equal(toBigInt(parsed.nanoseconds), n);
      assert.equal(stringifyMesosJson(parsed), text);
    }),
  );
});

test("doubles (timestamps, scalars) stay numbers", () => {
  const v = parseMesosJson(
    '{"timestamp":1732579200.25,"scalar":{"value":0.5},"n":12345678901234567.5}',
  ) as Record<string, unknown>;
  assert.equal(v.timestamp, 1732579200.25);
  assert.deepEqual(v.scalar, { value: 0.5 });
  assert.equal(typeof v.n, "number");
});

test("nanosFromMillis is exact", () => {
  assert.equal(nanosFromMillis(1735689600000), 1735689600000000000n);
});

test("malformed JSON and non-objects are protocol errors", () => {
  assert.throws(() => parseMesosJson("{"), MesosProtocolError);
  assert.throws(() => decodeMessage(Buffer.from("[1,2]")), MesosProtocolError);
  assert.throws(() => decodeMessage(Buffer.from('{"no_type":1}')), MesosProtocolError);
  assert.throws(() => decodeMessage(Buffer.from([0x7b, 0xff, 0x7d])), /UTF-8/);
});

test("messages as Mesos emits them, defaults and unknown fields included, decode to the typed shape", () => {
  // An offer as a Mesos 1.x master writes it for a framework without RESERVATION_REFINEMENT:
  // defaults present, plus a field this library does not know.
  const raw = `{"type":"OFFERS","offers":{"offers":[{"id":{"value":"m-O1"},"framework_id":{"value":"m-0001"},"agent_id":{"value":"m-S0"},"hostname":"node-a","url":{"scheme":"http","address":{"hostname":"node-a","ip":"127.0.0.2","port":5051},"path":"/slave(1)"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*","allocation_info":{"role":"scaleio"}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*","allocation_info":{"role":"scaleio"}}],"attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}],"allocation_info":{"role":"scaleio"},"future_field":{"x":1}}]}}`;
  const msg = decodeMessage(Buffer.from(raw)) as unknown as { offers: { offers: Offer[] } };
  const offer = msg.offers.offers[0]!;
  assert.equal(offer.id.value, "m-O1");
  assert.equal(offer.resources![0]!.role, "*");
  assert.equal(offer.resources![1]!.ranges!.range![0]!.begin, 31000);
  assert.equal(offer.attributes![0]!.text!.value, "r1");
  assert.equal(offer.allocation_info!.role, "scaleio");
});

test("calls serialise with snake_case keys, enum names, id wrappers and base64 bytes", () => {
  const task: TaskInfo = {
    name: "sds node-a",
    task_id: { value: "sds-node-a" },
    agent_id: { value: "m-S0" },
    resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.5 } }],
    executor: {
      type: "CUSTOM",
      executor_id: { value: "scaleio-node-a" },
      command: { shell: false, value: "./executor", arguments: ["executor"] },
    },
    data: toBase64('{"step":"install"}'),
    kill_policy: { grace_period: { nanoseconds: 30_000_000_000n } },
  };
  const call: SchedulerCall = {
    framework_id: { value: "m-0001" },
    type: "ACCEPT",
    accept: {
      offer_ids: [{ value: "m-O1" }],
      operations: [{ type: "LAUNCH", launch: { task_infos: [task] } }],
      filters: { refuse_seconds: 5 },
    },
  };
  const json = stringifyMesosJson(call);
  assert.match(json, /"task_infos":\[/);
  assert.match(json, /"grace_period":\{"nanoseconds":30000000000\}/);
  assert.match(json, /"type":"LAUNCH"/);
  const back = JSON.parse(json);
  assert.equal(
    fromBase64(back.accept.operations[0].launch.task_infos[0].data).toString(),
    '{"step":"install"}',
  );
});

test("status uuids are 16 random bytes in base64, and checked as such", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const u = newStatusUuid();
    assert.ok(isStatusUuid(u));
    assert.equal(fromBase64(u).length, 16);
    seen.add(u);
  }
  assert.equal(seen.size, 100);
  assert.equal(isStatusUuid("mz5afCHQT26KGyw9Tl9gcQ=="), true);
  assert.equal(isStatusUuid("aGVsbG8="), false);
  assert.equal(isStatusUuid("not base64!"), false);
});

test("terminal task states follow the reference table", () => {
  const terminal = TASK_STATES.filter(isTerminalTaskState);
  assert.deepEqual(terminal, [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_LOST",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
  ]);
  assert.equal(isTerminalTaskState("TASK_UNREACHABLE"), false);
  assert.equal(isTerminalTaskState("TASK_UNKNOWN"), false);
});
