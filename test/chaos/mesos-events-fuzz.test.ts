// Property-based fuzzing of the Mesos event decoder and of the framework's handlers.
// - The decoder: any record (any bytes, any JSON, events of every type with any field
//   replaced by anything) either decodes or is a MesosProtocolError; and whatever the checks
//   let through, the code that reads those fields (agent registry, resource arithmetic,
//   runner, acknowledgement) handles without throwing.
// - The scheduler: thousands of generated events over a real event stream into the real
//   FrameworkScheduler. Events of a consumed type that break a field it reads change
//   nothing (store, agents, held offers, calls to the master); valid and broken events mixed
//   leave it subscribed, with no stage failure and no unhandled rejection.
// - The executor client: broken events on its stream are skipped, and it stays subscribed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeSchedulerEvent } from "../../src/mesos/scheduler/events.js";
import { toExecutorEvent } from "../../src/mesos/executor/events.js";
import { decodeMessage } from "../../src/mesos/json.js";
import { InvalidEventError, MesosProtocolError } from "../../src/mesos/errors.js";
import { acknowledge } from "../../src/mesos/scheduler/calls.js";
import { isTerminalTaskState, type Offer, type TaskStatus } from "../../src/mesos/types/common.js";
import {
  amountOf,
  attributesAsText,
  isOurs,
  isUnreserved,
  offerAddress,
  takeFrom,
} from "../../src/framework/resources.js";
import { decodeResult } from "../../src/framework/node-task/protocol.js";
import { launchRefusal } from "../../src/framework/node-task/runner.js";
import { startFixture } from "../support/executor-fixture.js";
import {
  FID,
  startScriptedScheduler,
  type ScriptedScheduler,
} from "../support/scripted-scheduler.js";
import { waitUntil } from "../support/wait.js";

let tried = 0;
let tests = 0;
let passed = 0;
after(() => {
  console.log(
    `chaos: mesos events: tried ${tried} generated events through the decoder, the scheduler and the executor client, ${passed === tests ? "held" : "broke"}`,
  );
});

/** A test that counts towards the closing line. */
function chaos(name: string, fn: (t: import("node:test").TestContext) => Promise<void>): void {
  tests += 1;
  test(name, { timeout: 50_000 }, async (t) => {
    await fn(t);
    passed += 1;
  });
}

const enc = (v: unknown) =>
  new TextEncoder().encode(
    JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x)),
  );
const clone = <T>(v: T): T => structuredClone(v);
const UUIDS = ["mz5afCHQT26KGyw9Tl9gcQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "q83vEjRWeJCrze8SNFZ4kA=="];

// ---- valid events of the types the framework consumes ----------------------------------

const idValue = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,11}$/);
const agentId = fc.integer({ min: 0, max: 5 }).map((i) => ({ value: `fz-agent-${i}` }));
const scalar = fc.double({ min: 0, max: 64, noNaN: true });
const reservation = fc.record({
  type: fc.constant("DYNAMIC"),
  role: fc.constantFrom("scaleio", "other"),
  labels: fc.record({
    labels: fc.array(
      fc.record({
        key: fc.constantFrom("scaleio-framework", "x"),
        value: fc.constantFrom("scripted-test", "y"),
      }),
      { maxLength: 2 },
    ),
  }),
});
const resource = fc.record(
  {
    name: fc.constantFrom("cpus", "mem", "disk", "gpus"),
    type: fc.constant("SCALAR"),
    scalar: fc.record({ value: scalar }),
    allocation_info: fc.constant({ role: "scaleio" }),
    reservations: fc.array(reservation, { maxLength: 2 }),
  },
  { requiredKeys: ["name", "type", "scalar"] },
);
const attribute = fc.oneof(
  fc.record({
    name: fc.constantFrom("rack", "zone"),
    type: fc.constant("TEXT"),
    text: fc.record({ value: fc.string() }),
  }),
  fc.record({
    name: fc.constant("weight"),
    type: fc.constant("SCALAR"),
    scalar: fc.record({ value: scalar }),
  }),
  fc.record({
    name: fc.constant("disks"),
    type: fc.constant("SET"),
    set: fc.record({ item: fc.array(fc.string(), { maxLength: 3 }) }),
  }),
);
const validOffer = fc.record(
  {
    id: idValue.map((v) => ({ value: `o-${v}` })),
    framework_id: fc.constant({ value: FID }),
    agent_id: agentId,
    hostname: fc.string({ maxLength: 20 }),
    url: fc.record({
      scheme: fc.constant("http"),
      address: fc.record({ hostname: fc.string(), ip: fc.ipV4(), port: fc.constant(5051) }),
    }),
    domain: fc.record({
      fault_domain: fc.record({
        region: fc.record({ name: fc.string() }),
        zone: fc.record({ name: fc.string() }),
      }),
    }),
    resources: fc.array(resource, { maxLength: 4 }),
    attributes: fc.array(attribute, { maxLength: 3 }),
    executor_ids: fc.array(
      agentId.map((a) => ({ value: `scaleio-${a.value}` })),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: ["id", "framework_id", "agent_id", "hostname"] },
);
const validStatus = fc
  .record(
    {
      task_id: idValue.map((v) => ({ value: `t-${v}` })),
      state: fc.constantFrom(
        "TASK_RUNNING",
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_ERROR",
        "TASK_LOST",
        "TASK_KILLED",
        "TASK_STARTING",
      ),
      source: fc.constantFrom("SOURCE_EXECUTOR", "SOURCE_AGENT", "SOURCE_MASTER"),
      reason: fc.constantFrom(
        "REASON_TASK_INVALID",
        "REASON_EXECUTOR_TERMINATED",
        "REASON_RECONCILIATION",
      ),
      message: fc.string({ maxLength: 40 }),
      data: fc.base64String({ maxLength: 40 }),
      agent_id: agentId,
      uuid: fc.constantFrom(...UUIDS),
    },
    { requiredKeys: ["task_id", "state"] },
  )
  // Mesos sends a uuid only with the agent it came from.
  .map((s) => (s.uuid && !s.agent_id ? { ...s, agent_id: { value: "fz-agent-0" } } : s));

/** Events the framework consumes, all valid (no ERROR: a valid one ends the subscription). */
const validEvent: fc.Arbitrary<Record<string, unknown> & { type: string }> = fc.oneof(
  fc
    .array(validOffer, { minLength: 1, maxLength: 4 })
    .map((offers) => ({ type: "OFFERS", offers: { offers } })),
  validStatus.map((status) => ({ type: "UPDATE", update: { status } })),
  idValue.map((v) => ({ type: "RESCIND", rescind: { offer_id: { value: `o-${v}` } } })),
  fc.tuple(agentId, fc.base64String({ maxLength: 40 })).map(([a, data]) => ({
    type: "MESSAGE",
    message: { agent_id: a, executor_id: { value: `scaleio-${a.value}` }, data },
  })),
  fc.tuple(agentId, fc.boolean()).map(([a, withExecutor]) => ({
    type: "FAILURE",
    failure: {
      agent_id: a,
      ...(withExecutor ? { executor_id: { value: `scaleio-${a.value}` } } : {}),
    },
  })),
  fc
    .array(fc.record({ id: idValue.map((v) => ({ value: v })), agent_id: agentId }), {
      maxLength: 2,
    })
    .map((inverse_offers) => ({
      type: "INVERSE_OFFERS",
      inverse_offers: { inverse_offers },
    })),
  fc.constant({ type: "HEARTBEAT" }),
);

// ---- breaking a field the framework reads ------------------------------------------------

const NOT_OBJECT = [null, 5, "x", [], true] as const;
const NOT_STRING = [null, 5, {}, [], true] as const;
const NOT_ID = [null, 5, "id", [], {}, { value: "" }, { value: 7 }] as const;

type Raw = Record<string, unknown> & { type: string };
type Breaker = (e: Raw, k: number) => void;
const pick = <T>(list: readonly T[], k: number): T => list[k % list.length]!;
const body = (e: Raw) => e[e.type.toLowerCase()] as Record<string, unknown>;

/** Breaks one offer for sure. */
const offerBreakers: ((o: Record<string, unknown>, k: number) => void)[] = [
  (o) => delete o.agent_id,
  (o, k) => (o.agent_id = pick(NOT_ID, k)),
  (o, k) => (o.id = pick(NOT_ID, k)),
  (o, k) => (k % 2 ? delete o.hostname : (o.hostname = pick(NOT_STRING, k))),
  (o, k) => (o.resources = pick(["cpus", 5, {}, null], k)),
  (o, k) =>
    (o.resources = [{ name: "cpus", type: "SCALAR", scalar: { value: pick(["4", null, {}], k) } }]),
  (o, k) => (o.domain = { fault_domain: pick([{}, { region: { name: "r" } }, 5], k) }),
  (o, k) => (o.executor_ids = pick([[{}], [5], "e"], k)),
  (o, k) => (o.url = pick([{}, { address: 5 }, "http://x"], k)),
  (o, k) =>
    (o.attributes = pick(
      [[{ type: "TEXT" }], [{ name: "a", type: "TEXT", text: { value: 5 } }], "a"],
      k,
    )),
];

const breakers: Record<string, Breaker[]> = {
  OFFERS: [
    (e, k) => (e.offers = pick(NOT_OBJECT, k)),
    (e) => delete e.offers,
    (e, k) => (body(e).offers = pick(["x", 5, {}, true], k)),
    // Every offer of the batch broken (one bad offer among good ones is only left out).
    (e, k) => {
      for (const o of body(e).offers as Record<string, unknown>[])
        pick(offerBreakers, k)(o, k >> 3);
    },
  ],
  UPDATE: [
    (e, k) => (e.update = pick(NOT_OBJECT, k)),
    (e) => (e.update = {}),
    (e, k) => ((body(e).status as Record<string, unknown>).task_id = pick(NOT_ID, k)),
    (e, k) =>
      ((body(e).status as Record<string, unknown>).state = pick(
        [7, "RUNNING", "", null, "task_running"],
        k,
      )),
    (e, k) =>
      ((body(e).status as Record<string, unknown>).uuid = pick(["short", 5, "!!!!", "AAAA"], k)),
    (e) => {
      const s = body(e).status as Record<string, unknown>;
      s.uuid = UUIDS[0];
      delete s.agent_id;
    },
    (e, k) => ((body(e).status as Record<string, unknown>).message = pick(NOT_STRING, k)),
    (e, k) => ((body(e).status as Record<string, unknown>).data = pick(NOT_STRING, k)),
    (e, k) => ((body(e).status as Record<string, unknown>).agent_id = pick(NOT_ID, k)),
  ],
  RESCIND: [
    (e, k) => (e.rescind = pick(NOT_OBJECT, k)),
    (e, k) => (body(e).offer_id = pick(NOT_ID, k)),
  ],
  MESSAGE: [
    (e) => delete body(e).data,
    (e, k) => (body(e).data = pick(NOT_STRING, k)),
    (e, k) => (body(e).agent_id = pick(NOT_ID, k)),
    (e, k) => (body(e).executor_id = pick(NOT_ID, k)),
  ],
  FAILURE: [
    (e, k) => (e.failure = pick(NOT_OBJECT, k)),
    (e, k) => (body(e).agent_id = pick(NOT_ID, k)),
    (e, k) => (body(e).status = pick(["1", 1.5, {}], k)),
  ],
  INVERSE_OFFERS: [
    (e, k) => (body(e).inverse_offers = pick(["x", 5, {}], k)),
    (e, k) => (body(e).inverse_offers = [{ id: pick(NOT_ID, k) }]),
  ],
  HEARTBEAT: [],
};

/** Broken events: a valid event of a consumed type with one field it reads broken. */
const brokenEvent: fc.Arbitrary<Raw> = fc
  .tuple(
    validEvent.filter((e) => (breakers[e.type]?.length ?? 0) > 0),
    fc.nat(),
  )
  .map(([e, k]) => {
    const broken = clone(e);
    pick(breakers[e.type]!, k)(broken, Math.floor(k / 16));
    return broken;
  });

// ---- the code that reads events, run on whatever the checks let through ----------------

function readLikeTheFramework(event: Raw): void {
  if (event.type === "OFFERS") {
    for (const o of ((event.offers as { offers?: Offer[] }).offers ?? []) as Offer[]) {
      const id = o.agent_id.value + o.id.value + o.hostname;
      offerAddress(o);
      attributesAsText(o.attributes);
      const resources = o.resources ?? [];
      const have = amountOf(resources, (r) => isOurs(r, "scaleio", "scripted-test"));
      amountOf(resources, isUnreserved);
      takeFrom(resources, isUnreserved, have);
      const d = o.domain?.fault_domain;
      if (d) void (d.region.name + d.zone.name);
      for (const e of o.executor_ids ?? []) void (e.value === id);
    }
  } else if (event.type === "UPDATE") {
    const s = (event.update as { status: TaskStatus }).status;
    void s.task_id.value;
    isTerminalTaskState(s.state);
    decodeResult(s.data);
    launchRefusal(s);
    if (s.uuid) acknowledge(s);
    if (s.message !== undefined) void s.message.slice(0, 10);
  }
}

/** Replaces the value at a random path of a JSON-like value (mutates). */
function replaceAt(root: unknown, path: number[], value: unknown): void {
  let node = root as Record<string, unknown> | unknown[];
  for (let i = 0; i < path.length; i++) {
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const key = keys[path[i]! % keys.length]!;
    const child = (node as Record<string, unknown>)[key];
    if (i === path.length - 1 || typeof child !== "object" || child === null) {
      (node as Record<string, unknown>)[key] = value;
      return;
    }
    node = child as Record<string, unknown>;
  }
}

chaos(
  "decoder: any bytes, any JSON, any event with any field replaced: decoded or a MesosProtocolError",
  async () => {
    const anyRecord = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.jsonValue().map((v) => enc(v)),
      fc
        .tuple(
          fc.constantFrom(
            "SUBSCRIBED",
            "OFFERS",
            "UPDATE",
            "RESCIND",
            "MESSAGE",
            "FAILURE",
            "ERROR",
            "HEARTBEAT",
            "INVERSE_OFFERS",
            "UPDATE_OPERATION_STATUS",
            "RESCIND_INVERSE_OFFER",
            "X_NEW",
          ),
          fc.anything(),
        )
        .map(([type, b]) => enc({ type, [type.toLowerCase()]: b })),
      fc
        .tuple(validEvent, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue())
        .map(([e, path, v]) => {
          const copy = clone(e);
          replaceAt(copy, path, v);
          return enc(copy);
        }),
      // Near misses that often stay valid: a field replaced by a value of a common kind.
      fc
        .tuple(
          validEvent,
          fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
          fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean()),
        )
        .map(([e, path, v]) => {
          const copy = clone(e);
          replaceAt(copy, path, v);
          return enc(copy);
        }),
      validEvent.map((e) => enc(e)),
    );
    let accepted = 0;
    fc.assert(
      fc.property(anyRecord, (bytes) => {
        tried += 1;
        let decoded;
        try {
          decoded = decodeSchedulerEvent(bytes);
        } catch (err) {
          assert.ok(err instanceof MesosProtocolError, `unexpected ${String(err)}`);
          return;
        }
        if (!decoded.known) return;
        accepted += 1;
        // What the checks let through, the readers read without throwing.
        readLikeTheFramework(decoded.event as unknown as Raw);
      }),
      { numRuns: 6000 },
    );
    assert.ok(accepted > 1000, `only ${accepted} accepted: the generator explores too little`);
  },
);

chaos(
  "decoder: every broken event of a consumed type is an InvalidEventError naming its type",
  async () => {
    fc.assert(
      fc.property(brokenEvent, (e) => {
        tried += 1;
        assert.throws(
          () => decodeSchedulerEvent(enc(e)),
          (err: unknown) => err instanceof InvalidEventError && err.eventType === e.type,
          JSON.stringify(e),
        );
      }),
      { numRuns: 3000 },
    );
  },
);

function snapshot(w: ScriptedScheduler) {
  return {
    agents: JSON.stringify(w.sched.agents.all()),
    held: JSON.stringify([...w.sched.runner.heldOffers()]),
    inFlight: w.sched.runner.inFlight,
    writes: w.writes.length,
    messages: w.platform.messages.length,
    calls: ["ACCEPT", "DECLINE", "ACKNOWLEDGE", "KILL", "SHUTDOWN"].map((t) => w.callsOf(t).length),
    subscribes: w.master.subscribes.length,
  };
}

chaos("scheduler: broken events over the stream change nothing, in any chunking", async () => {
  const w = await startScriptedScheduler();
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on("unhandledRejection", onRejection);
  try {
    let invalid = 0;
    w.sched.client.on("invalidEvent", () => (invalid += 1));
    await fc.assert(
      fc.asyncProperty(
        fc.array(brokenEvent, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat({ max: 20_000 }), { maxLength: 8 }),
        async (events, cuts) => {
          tried += events.length;
          const before = snapshot(w);
          const invalidBefore = invalid;
          await w.sendAll(
            events,
            [...cuts].sort((a, b) => a - b),
          );
          assert.deepEqual(snapshot(w), before);
          assert.equal(invalid - invalidBefore, events.length);
          assert.equal(w.sched.client.state, "subscribed");
        },
      ),
      { numRuns: 60 },
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(rejections, []);
    assert.equal(w.sched.pipeline.failures, 0);
  } finally {
    process.off("unhandledRejection", onRejection);
    await w.close();
  }
});

chaos(
  "scheduler: valid and broken events mixed: it stays subscribed, no stage fails, nothing escapes",
  async () => {
    const w = await startScriptedScheduler();
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    process.on("unhandledRejection", onRejection);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(validEvent, brokenEvent), { minLength: 1, maxLength: 60 }),
          async (events) => {
            tried += events.length;
            await w.sendAll(events);
            assert.equal(w.sched.client.state, "subscribed");
            assert.equal(w.master.subscribes.length, 1);
            for (const a of w.sched.agents.all()) assert.match(a.agentId, /^fz-agent-[0-5]$/);
          },
        ),
        { numRuns: 40 },
      );
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rejections, []);
      assert.equal(
        w.sched.pipeline.failures,
        0,
        JSON.stringify(w.logs.filter((l) => l.level === "error").slice(0, 3)),
      );
      assert.ok(w.sched.agents.all().length > 0, "the valid offers were handled");
    } finally {
      process.off("unhandledRejection", onRejection);
      await w.close();
    }
  },
);

// ---- the executor client -----------------------------------------------------------------

const task = (id: string) => ({ task_id: { value: id }, name: id, data: "e30=" });
const executorBreakers: { type: string; make: (k: number) => Raw }[] = [
  {
    type: "LAUNCH",
    make: (k) => ({
      type: "LAUNCH",
      launch: pick(
        [
          {},
          { task: 5 },
          { task: { name: "x" } },
          { task: { ...task("t"), task_id: pick(NOT_ID, k) } },
          { task: { ...task("t"), data: 5 } },
        ],
        k,
      ),
    }),
  },
  {
    type: "LAUNCH_GROUP",
    make: (k) => ({
      type: "LAUNCH_GROUP",
      launch_group: pick(
        [{}, { task_group: { tasks: [] } }, { task_group: { tasks: [{}] } }, { task_group: 5 }],
        k,
      ),
    }),
  },
  {
    type: "KILL",
    make: (k) => ({
      type: "KILL",
      kill: pick(
        [
          {},
          { task_id: pick(NOT_ID, k) },
          { task_id: { value: "t" }, kill_policy: { grace_period: { nanoseconds: "5" } } },
        ],
        k,
      ),
    }),
  },
  {
    type: "ACKNOWLEDGED",
    make: (k) => ({
      type: "ACKNOWLEDGED",
      acknowledged: pick(
        [
          {},
          { task_id: { value: "t" } },
          { task_id: pick(NOT_ID, k), uuid: UUIDS[0] },
          { task_id: { value: "t" }, uuid: 5 },
        ],
        k,
      ),
    }),
  },
  { type: "MESSAGE", make: (k) => ({ type: "MESSAGE", message: pick([{}, { data: 5 }, 5], k) }) },
  {
    type: "SUBSCRIBED",
    make: (k) => ({
      type: "SUBSCRIBED",
      subscribed: pick([{}, { framework_info: 5 }, { framework_info: { capabilities: "x" } }], k),
    }),
  },
  { type: "ERROR", make: (k) => ({ type: "ERROR", error: pick([{}, { message: 5 }], k) }) },
];

chaos(
  "executor client: broken events are skipped; it stays subscribed and acts on none",
  async (t) => {
    const { agent, client } = await startFixture(t, { env: { MESOS_CHECKPOINT: "0" } });
    await waitUntil(() => client.state === "subscribed", { what: "subscribed" });
    let invalid = 0;
    let acted = 0;
    let lost = false;
    client.on("invalidEvent", () => (invalid += 1));
    for (const name of [
      "launch",
      "launchGroup",
      "kill",
      "acknowledged",
      "message",
      "agentError",
    ] as const) {
      client.on(name, () => (acted += 1));
    }
    client.on("disconnected", () => (lost = true));
    client.on("reconnecting", () => (lost = true));
    const events = fc.sample(
      fc.tuple(fc.constantFrom(...executorBreakers), fc.nat()).map(([b, k]) => b.make(k)),
      { numRuns: 1500, seed: 14 },
    );
    for (const e of events) {
      assert.throws(
        () => toExecutorEvent(decodeMessage(enc(e))),
        InvalidEventError,
        JSON.stringify(e),
      );
    }
    for (let i = 0; i < events.length; i += 100)
      await agent.stream!.sendRaw(
        Buffer.concat(
          events.slice(i, i + 100).map((e) => {
            const b = enc(e);
            return Buffer.concat([Buffer.from(`${b.length}\n`), b]);
          }),
        ),
      );
    tried += events.length;
    await waitUntil(() => invalid === events.length, {
      timeoutMs: 20_000,
      what: `${events.length} events skipped`,
    });
    assert.equal(acted, 0);
    assert.equal(
      lost,
      false,
      "the stream was kept (and without checkpointing, the executor lives)",
    );
    assert.equal(client.state, "subscribed");
  },
);
