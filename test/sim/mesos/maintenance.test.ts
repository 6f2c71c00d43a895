// Maintenance (reference 7): a schedule makes machines DRAINING (offers carry
// unavailability, inverse offers go to frameworks using the agent), /machine/down removes
// the agent (TASK_LOST), /machine/up lets it return.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { Master } from "../../../sim/mesos/master/master.js";
import { Scheduler, http, until, type Ev } from "./helpers.js";

let c: DevCluster;
let ids: string[];

before(async () => {
  c = await startDevCluster({
    agents: 2,
    agentsPerProcess: 2,
    master: { allocationIntervalMs: 100 },
    agent: { registrationBackoffMs: 100 },
  });
  ids = await Promise.all(c.agents.map((a) => a.id()));
});
after(() => c.stop());

test("schedule -> unavailability and INVERSE_OFFERS; down -> TASK_LOST; up -> offers again", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const offers = await s.offers(2);
    const o0 = offers.find((o) => o.agent_id.value === ids[0])!;
    await s.call("ACCEPT", {
      offer_ids: [o0.id],
      operations: [
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: "m",
                task_id: { value: "m-t" },
                agent_id: o0.agent_id,
                resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
                command: { value: "sleep 60" },
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    });
    await s.ack(await s.update((u) => u.state === "TASK_STARTING"));
    await s.ack(await s.update((u) => u.state === "TASK_RUNNING"));
    const machine = { hostname: o0.hostname, ip: o0.url.address.ip };
    const start = (BigInt(Date.now()) + 3_600_000n) * 1_000_000n;
    const schedule = `{"windows":[{"machine_ids":[${JSON.stringify(machine)}],"unavailability":{"start":{"nanoseconds":${start}},"duration":{"nanoseconds":7200000000000}}}]}`;
    const mark = s.stream.events.length;
    const bad = await http(`${c.masterUrl}/maintenance/schedule`, {
      body: { windows: [{ machine_ids: [] }] },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      (await http(`${c.masterUrl}/maintenance/schedule`, { body: schedule })).status,
      200,
    );
    const inv = await s.stream.next((e) => e.type === "INVERSE_OFFERS", 5000, mark);
    const io = inv.inverse_offers.inverse_offers[0];
    assert.equal(io.agent_id.value, ids[0]);
    assert.equal(io.framework_id.value, s.frameworkId);
    assert.equal(String(io.unavailability.start.nanoseconds).length, 19);
    await until(
      () => s.liveOffers().some((x) => x.agent_id.value === ids[0] && x.unavailability),
      5000,
      "an offer with unavailability",
    );
    assert.equal(
      (
        await s.call("ACCEPT_INVERSE_OFFERS", {
          inverse_offer_ids: [io.id],
          filters: { refuse_seconds: 60 },
        })
      ).status,
      202,
    );
    const status = JSON.parse(
      (await http(`${c.masterUrl}/maintenance/status`, { method: "GET" })).body,
    );
    assert.equal(status.draining_machines[0].statuses[0].status, "ACCEPT");
    const gs = JSON.parse(
      (await http(`${c.masterUrl}/maintenance/schedule`, { method: "GET" })).body,
    );
    assert.equal(gs.windows[0].machine_ids[0].ip, machine.ip);
    // DOWN: the agent is removed.
    assert.equal((await http(`${c.masterUrl}/machine/down`, { body: [machine] })).status, 200);
    const lost = await s.update((u) => u.task_id.value === "m-t" && u.state === "TASK_LOST");
    assert.equal(lost.reason, "REASON_AGENT_REMOVED");
    const st = JSON.parse((await http(`${c.masterUrl}/state`, { method: "GET" })).body);
    assert.equal(
      st.slaves.some((x: Ev) => x.id === ids[0]),
      false,
    );
    // UP: the machine leaves maintenance; its agent registers again and is offered without unavailability.
    const badUp = await http(`${c.masterUrl}/machine/up`, { body: [{ hostname: "nowhere" }] });
    assert.equal(badUp.status, 400);
    const mark2 = s.stream.events.length;
    assert.equal((await http(`${c.masterUrl}/machine/up`, { body: [machine] })).status, 200);
    await until(
      async () => {
        const o = (await s.offers(1, 5000, mark2)).find((x) => x.agent_id.value === ids[0]);
        return !!o && o.unavailability === undefined;
      },
      10_000,
      "the agent to be offered again",
    );
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("a declined inverse offer comes again once its filter has expired, at an allocation cycle, however its resend timer fell", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const o1 = (await s.offers(2)).find((o) => o.agent_id.value === ids[1])!;
    await s.call("ACCEPT", {
      offer_ids: [o1.id],
      operations: [
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: "m",
                task_id: { value: "m-filter" },
                agent_id: o1.agent_id,
                resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
                command: { value: "sleep 60" },
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    });
    await s.ack(
      await s.update((u) => u.task_id.value === "m-filter" && u.state === "TASK_STARTING"),
    );
    await s.ack(
      await s.update((u) => u.task_id.value === "m-filter" && u.state === "TASK_RUNNING"),
    );
    const machine = { hostname: o1.hostname, ip: o1.url.address.ip };
    const start = (BigInt(Date.now()) + 3_600_000n) * 1_000_000n;
    const mark = s.stream.events.length;
    const schedule = `{"windows":[{"machine_ids":[${JSON.stringify(machine)}],"unavailability":{"start":{"nanoseconds":${start}},"duration":{"nanoseconds":7200000000000}}}]}`;
    assert.equal(
      (await http(`${c.masterUrl}/maintenance/schedule`, { body: schedule })).status,
      200,
    );
    const first = await s.stream.next((e) => e.type === "INVERSE_OFFERS", 5000, mark);
    const io = first.inverse_offers.inverse_offers[0];
    const declinedAt = Date.now();
    const mark2 = s.stream.events.length;
    await s.call("DECLINE_INVERSE_OFFERS", {
      inverse_offer_ids: [io.id],
      filters: { refuse_seconds: 1 },
    });
    // The filter outlasts the resend timer (as when that timer fires a little early, against
    // a wall clock read later): the offer must still come once the filter has expired.
    const fw = c.master.frameworks.get(s.frameworkId)!;
    fw.inverseFilters.set(ids[1]!, declinedAt + 1500);
    const again = await s.stream.next((e) => e.type === "INVERSE_OFFERS", 10_000, mark2);
    assert.equal(again.inverse_offers.inverse_offers[0].agent_id.value, ids[1]);
    assert.ok(Date.now() >= declinedAt + 1500, "not before the filter expired");
    assert.equal(
      (await http(`${c.masterUrl}/maintenance/schedule`, { body: { windows: [] } })).status,
      200,
    );
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("a stopped master has written its last change to the registry and writes nothing later", async () => {
  const dir = mkdtempSync(join(tmpdir(), "registry-"));
  const registryPath = join(dir, "registry.json");
  const m = new Master({ host: "127.0.0.1", registryPath });
  await m.start();
  const machine = { hostname: "node-9", ip: "127.0.0.9" };
  const start = (BigInt(Date.now()) + 3_600_000n) * 1_000_000n;
  const schedule = `{"windows":[{"machine_ids":[${JSON.stringify(machine)}],"unavailability":{"start":{"nanoseconds":${start}}}}]}`;
  assert.equal((await http(`${m.url}/maintenance/schedule`, { body: schedule })).status, 200);
  await m.stop();
  // Written by the stop itself, not by a timer that could fire after the folder is gone
  // (which failed test files with ENOENT on registry.json.tmp after they ended).
  const saved = JSON.parse(readFileSync(registryPath, "utf8"));
  assert.deepEqual(saved.schedule.windows[0].machine_ids, [machine]);
  rmSync(dir, { recursive: true, force: true });
});
