// TEARDOWN as an uninstall sees it (reference §3 TEARDOWN): the framework's task is killed,
// it leaves `frameworks` for `completed_frameworks` in /state and in the operator API's
// GET_FRAMEWORKS, GET_TASKS lists nothing of it; its dynamic
// reservations stay with the role (Mesos never unreserves on its own), so a framework that
// wants to leave nothing behind unreserves first — which leaves the agent unreserved.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { FRAMEWORK, Scheduler, http, until, type Ev } from "./helpers.js";

let c: DevCluster;
before(async () => {
  c = await startDevCluster({
    agents: 1,
    agentSpecs: [{ resources: "cpus:2;mem:2048;disk:1000;ports:[31000-31100]" }],
    master: { allocationIntervalMs: 100 },
  });
  await c.agents[0]!.id();
});
after(() => c.stop());

const reservation = {
  type: "DYNAMIC",
  role: "storage",
  principal: "tester",
  labels: { labels: [{ key: "owner", value: "fw" }] },
};
const reserved = (name: string, value: number) => ({
  name,
  type: "SCALAR",
  scalar: { value },
  allocation_info: { role: "storage" },
  reservations: [reservation],
});

async function state(): Promise<Ev> {
  return JSON.parse((await http(`${c.masterUrl}/state`, { method: "GET" })).body);
}
async function operator(type: string): Promise<Ev> {
  const r = await http(`${c.masterUrl}/api/v1`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ type }),
  });
  return JSON.parse(r.body);
}

test("TEARDOWN: task killed, framework completed everywhere; reservations stay until UNRESERVE", async () => {
  const info = { ...FRAMEWORK, principal: "tester" };
  const s = await Scheduler.subscribe(c.masterUrl, info);
  const agentId = await c.agents[0]!.id();
  const o = (await s.offers(1))[0]!;
  const mark = s.stream.events.length;
  await s.call("ACCEPT", {
    offer_ids: [o.id],
    operations: [
      { type: "RESERVE", reserve: { resources: [reserved("cpus", 0.5), reserved("mem", 128)] } },
      {
        type: "LAUNCH",
        launch: {
          task_infos: [
            {
              name: "sleeper",
              task_id: { value: "sleeper" },
              agent_id: o.agent_id,
              resources: [reserved("cpus", 0.5), reserved("mem", 128)],
              command: { value: "sleep 600" },
            },
          ],
        },
      },
    ],
    filters: { refuse_seconds: 0 },
  });
  for (const st of ["TASK_STARTING", "TASK_RUNNING"])
    await s.ack(
      await s.update((u) => u.task_id.value === "sleeper" && u.state === st, 10_000, mark),
    );
  const fw = s.frameworkId;
  assert.ok((await state()).frameworks.some((f: Ev) => f.id === fw));

  await s.call("TEARDOWN");
  s.close();
  await until(async () => !(await state()).frameworks.some((f: Ev) => f.id === fw));
  const st = await state();
  const done = st.completed_frameworks.find((f: Ev) => f.id === fw);
  assert.ok(done, "listed as completed");
  assert.equal(done.active, false);
  assert.equal(done.tasks.length, 0);
  assert.ok(done.completed_tasks.some((t: Ev) => t.id === "sleeper" && t.state === "TASK_KILLED"));
  const frameworks = (await operator("GET_FRAMEWORKS")).get_frameworks;
  assert.ok(!frameworks.frameworks.some((f: Ev) => f.id === fw));
  assert.ok(frameworks.completed_frameworks.some((f: Ev) => f.id === fw));
  assert.ok(!(await operator("GET_TASKS")).get_tasks.tasks.some((t: Ev) => t.framework_id === fw));
  // The reservation outlives the framework.
  const slave = st.slaves.find((a: Ev) => a.id === agentId);
  assert.equal(slave.reserved_resources.storage.cpus, 0.5);
  // A framework of the role gets the reservation offered and gives it back.
  const s2 = await Scheduler.subscribe(c.masterUrl, info);
  try {
    let offer: Ev | undefined;
    await until(async () => {
      offer = (await s2.offers(1, 10_000, s2.stream.events.length - 1))[0];
      return (offer?.resources ?? []).some((r: Ev) => r.reservations?.length);
    }, 15_000);
    const ours = offer!.resources.filter((r: Ev) => r.reservations?.length);
    await s2.call("ACCEPT", {
      offer_ids: [offer!.id],
      operations: [{ type: "UNRESERVE", unreserve: { resources: ours } }],
      filters: { refuse_seconds: 0 },
    });
    await until(async () => {
      const sl = (await state()).slaves.find((a: Ev) => a.id === agentId);
      return Object.keys(sl.reserved_resources).length === 0;
    });
  } finally {
    await s2.call("TEARDOWN");
    s2.close();
  }
});
