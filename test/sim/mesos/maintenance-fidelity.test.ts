// Maintenance, two points of the reference (7) the development master got wrong:
// - a machine is its hostname AND its IP, both matching what the agent reports (hostname
//   case-insensitive): a window naming only the hostname of an agent that reports both does
//   not cover it;
// - a schedule change re-asks: a framework that declined with a long refuse filter gets a
//   new inverse offer carrying the new unavailability (Mesos clears the inverse-offer
//   filters of the machines whose unavailability changed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { Scheduler, http, type Ev } from "./helpers.js";

let c: DevCluster;

before(async () => {
  c = await startDevCluster({
    agents: 2,
    agentsPerProcess: 2,
    master: { allocationIntervalMs: 100 },
    agent: { registrationBackoffMs: 100 },
  });
});
after(() => c.stop());

const nanos = (msFromNow: number) => (BigInt(Date.now()) + BigInt(msFromNow)) * 1_000_000n;
const schedule = (windows: { machines: object[]; start: bigint }[]) =>
  `{"windows":[${windows
    .map(
      (w) =>
        `{"machine_ids":${JSON.stringify(w.machines)},"unavailability":{"start":{"nanoseconds":${w.start}}}}`,
    )
    .join(",")}]}`;

async function launchOnEach(s: Scheduler): Promise<Ev[]> {
  const offers = await s.offers(2);
  for (const [i, o] of offers.entries()) {
    await s.call("ACCEPT", {
      offer_ids: [o.id],
      operations: [
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: `m${i}`,
                task_id: { value: `m${i}` },
                agent_id: o.agent_id,
                resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
                command: { value: "sleep 60" },
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    });
  }
  for (const i of [0, 1]) {
    await s.ack(await s.update((u) => u.task_id.value === `m${i}` && u.state === "TASK_STARTING"));
    await s.ack(await s.update((u) => u.task_id.value === `m${i}` && u.state === "TASK_RUNNING"));
  }
  return offers;
}

test("a machine is hostname and IP; a schedule change re-asks a framework that declined", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const [o0, o1] = await launchOnEach(s);
    const m1 = { hostname: o1!.hostname, ip: o1!.url.address.ip };
    // Agent 0 named by hostname only: not its machine. Agent 1 in full (hostname in upper case).
    const mark = s.stream.events.length;
    const r = await http(`${c.masterUrl}/maintenance/schedule`, {
      body: schedule([
        { machines: [{ hostname: o0!.hostname }], start: nanos(3_600_000) },
        { machines: [{ ...m1, hostname: m1.hostname.toUpperCase() }], start: nanos(3_600_000) },
      ]),
    });
    assert.equal(r.status, 200, r.body);
    const first = await s.stream.next((e) => e.type === "INVERSE_OFFERS", 5000, mark);
    const io1 = first.inverse_offers.inverse_offers[0];
    assert.equal(io1.agent_id.value, o1!.agent_id.value);
    const inverse = s.stream.events
      .slice(mark)
      .filter((e: Ev) => e.type === "INVERSE_OFFERS")
      .flatMap((e: Ev) => e.inverse_offers.inverse_offers);
    assert.deepEqual(
      inverse.map((x: Ev) => x.agent_id.value),
      [o1!.agent_id.value],
      "no inverse offer for a machine named by hostname only",
    );
    // Declined for an hour; then the window moves: asked again at once, with the new window.
    assert.equal(
      (
        await s.call("DECLINE_INVERSE_OFFERS", {
          inverse_offer_ids: [io1.id],
          filters: { refuse_seconds: 3600 },
        })
      ).status,
      202,
    );
    const moved = nanos(7_200_000);
    const mark2 = s.stream.events.length;
    assert.equal(
      (
        await http(`${c.masterUrl}/maintenance/schedule`, {
          body: schedule([{ machines: [m1], start: moved }]),
        })
      ).status,
      200,
    );
    const again = await s.stream.next(
      (e) =>
        e.type === "INVERSE_OFFERS" &&
        e.inverse_offers.inverse_offers.some((x: Ev) => x.agent_id.value === o1!.agent_id.value),
      5000,
      mark2,
    );
    const io2 = again.inverse_offers.inverse_offers[0];
    // (the test client reads JSON numbers as doubles)
    assert.equal(Number(io2.unavailability.start.nanoseconds), Number(moved));
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("a machine taken down: every subscribed framework hears of the removed agent (FAILURE), not only those with tasks there", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const [o] = await s.offers(1);
    const machine = { hostname: o!.hostname, ip: o!.url.address.ip };
    const r = await http(`${c.masterUrl}/maintenance/schedule`, {
      body: schedule([{ machines: [machine], start: nanos(0) }]),
    });
    assert.equal(r.status, 200, r.body);
    const mark = s.stream.events.length;
    assert.equal((await http(`${c.masterUrl}/machine/down`, { body: [machine] })).status, 200);
    const failure = await s.stream.next((e) => e.type === "FAILURE", 5000, mark);
    assert.equal(failure.failure.agent_id.value, o!.agent_id.value);
    assert.equal(failure.failure.executor_id, undefined);
    assert.equal((await http(`${c.masterUrl}/machine/up`, { body: [machine] })).status, 200);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});
