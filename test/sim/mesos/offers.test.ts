// Section 11 items 7-10: offers per agent and role, formats, filters, ACCEPT validation,
// reservations and persistent volumes, against a master with real agent processes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FRAMEWORK, Scheduler, http, until, type Ev } from "./helpers.js";

let c: DevCluster;

const MOUNT_DISK = JSON.stringify([
  { name: "cpus", type: "SCALAR", scalar: { value: 4 } },
  { name: "mem", type: "SCALAR", scalar: { value: 4096 } },
  { name: "disk", type: "SCALAR", scalar: { value: 1000 } },
  {
    name: "disk",
    type: "SCALAR",
    scalar: { value: 5000 },
    disk: { source: { type: "MOUNT", mount: { root: "/mnt/nvme0" } } },
  },
  { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 31999 }] } },
]);

before(async () => {
  c = await startDevCluster({
    agents: 3,
    agentsPerProcess: 3,
    agentSpecs: [
      { resources: MOUNT_DISK, attributes: "rack:r1;nvme:4", attributeFiles: { zone: "z1\n" } },
      {
        resources: "cpus:2;cpus(other):1;mem:2048;disk:1000;ports:[31000-31100]",
        domain: { fault_domain: { region: { name: "east" }, zone: { name: "a" } } },
      },
      { domain: { fault_domain: { region: { name: "west" }, zone: { name: "b" } } } },
    ],
    master: {
      allocationIntervalMs: 100,
      domain: { fault_domain: { region: { name: "east" }, zone: { name: "a" } } },
    },
  });
  await Promise.all(c.agents.map((a) => a.id()));
});
after(() => c.stop());

const byAgent = (offers: Ev[], agentId: string) => offers.find((o) => o.agent_id.value === agentId);

async function teardown(s: Scheduler): Promise<void> {
  await s.call("TEARDOWN");
  s.close();
}

test("11.7: one offer per agent and role, allocation_info everywhere, attributes from flag and files, remote region withheld", async () => {
  const s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, roles: ["storage"] });
  try {
    const offers = await s.offers(2);
    const ids = await Promise.all(c.agents.map((a) => a.id()));
    assert.ok(byAgent(offers, ids[0]!) && byAgent(offers, ids[1]!));
    assert.equal(
      byAgent(offers, ids[2]!),
      undefined,
      "west agent is withheld without REGION_AWARE",
    );
    for (const o of offers) {
      assert.deepEqual(o.allocation_info, { role: "storage" });
      for (const r of o.resources) {
        assert.deepEqual(r.allocation_info, { role: "storage" });
        assert.equal(r.role, undefined, "refinement format: no role on unreserved resources");
      }
      assert.match(o.id.value, new RegExp(`^${c.master.id}-O\\d+$`));
      assert.equal(o.url.address.port > 0, true);
    }
    const a0 = byAgent(offers, ids[0]!)!;
    const attrs = Object.fromEntries(a0.attributes.map((a: Ev) => [a.name, a]));
    assert.deepEqual(attrs.rack, { name: "rack", type: "TEXT", text: { value: "r1" } });
    assert.deepEqual(attrs.nvme, { name: "nvme", type: "SCALAR", scalar: { value: 4 } });
    assert.deepEqual(attrs.zone, { name: "zone", type: "TEXT", text: { value: "z1" } });
    const mount = a0.resources.find((r: Ev) => r.disk?.source?.type === "MOUNT");
    assert.equal(mount.scalar.value, 5000);
    const a1 = byAgent(offers, ids[1]!)!;
    assert.equal(a1.domain.fault_domain.region.name, "east");
  } finally {
    await teardown(s);
  }
  const ra = await Scheduler.subscribe(c.masterUrl, {
    ...FRAMEWORK,
    capabilities: [...FRAMEWORK.capabilities, { type: "REGION_AWARE" }],
  });
  try {
    assert.equal((await ra.offers(3)).length, 3, "REGION_AWARE frameworks see the remote region");
  } finally {
    await teardown(ra);
  }
});

test("11.7: frameworks without RESERVATION_REFINEMENT get role '*'", async () => {
  const s = await Scheduler.subscribe(c.masterUrl, {
    user: "u",
    name: "legacy",
    capabilities: [],
  });
  try {
    const [o] = await s.offers(1);
    assert.deepEqual(o!.allocation_info, { role: "*" });
    for (const r of o!.resources) {
      assert.equal(r.role, "*");
      assert.equal(r.reservations, undefined);
    }
  } finally {
    await teardown(s);
  }
});

test("11.7: a MULTI_ROLE framework gets offers per role; statically reserved resources only for their role", async () => {
  const agent1 = await c.agents[1]!.id();
  const check = async (info: object, refinement: boolean) => {
    const s = await Scheduler.subscribe(c.masterUrl, info);
    try {
      await until(
        () =>
          s
            .liveOffers()
            .some((o) => o.agent_id.value === agent1 && o.allocation_info.role === "other"),
        5000,
        "an 'other' offer",
      );
      for (const o of s.liveOffers()) {
        for (const r of o.resources) {
          assert.deepEqual(r.allocation_info, o.allocation_info);
          const reservedTo = refinement
            ? r.reservations?.[0]?.role
            : r.role === "*"
              ? undefined
              : r.role;
          if (reservedTo !== undefined) assert.equal(reservedTo, o.allocation_info.role);
          if (refinement && r.reservations)
            assert.deepEqual(r.reservations, [{ type: "STATIC", role: "other" }]);
          if (!refinement && r.role === "other")
            assert.equal(r.reservation, undefined, "static: no reservation key");
        }
      }
    } finally {
      await teardown(s);
    }
  };
  await check({ ...FRAMEWORK, roles: ["other", "storage"] }, true);
  await check(
    {
      user: "u",
      name: "pre-refinement",
      roles: ["other", "storage"],
      capabilities: [{ type: "MULTI_ROLE" }],
    },
    false,
  );
});

test("11.9: DECLINE filters, SUPPRESS and REVIVE", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const offers = await s.offers(2);
    const mark = s.stream.events.length;
    const t0 = Date.now();
    assert.equal(
      (
        await s.call("DECLINE", {
          offer_ids: offers.map((o) => o.id),
          filters: { refuse_seconds: 0.6 },
        })
      ).status,
      202,
    );
    await s.offers(2, 5000, mark);
    assert.ok(
      Date.now() - t0 >= 550,
      `re-offered only after refuse_seconds (${Date.now() - t0} ms)`,
    );
    // SUPPRESS: nothing new is offered even after filters expire.
    assert.equal((await s.call("SUPPRESS", { roles: ["storage"] })).status, 202);
    const again = await s.offers(2, 5000, mark);
    await s.call("DECLINE", {
      offer_ids: again.map((o) => o.id),
      filters: { refuse_seconds: 0.1 },
    });
    const afterSuppress = s.stream.events.length;
    await new Promise((r) => setTimeout(r, 400)); // a window in which offers would have come back
    assert.equal(s.stream.events.slice(afterSuppress).filter((e) => e.type === "OFFERS").length, 0);
    // A long decline filter is cleared by REVIVE.
    assert.equal((await s.call("REVIVE", { roles: ["storage"] })).status, 202);
    const revived = await s.offers(2, 5000, afterSuppress);
    await s.call("DECLINE", {
      offer_ids: revived.map((o) => o.id),
      filters: { refuse_seconds: 3600 },
    });
    const beforeRevive = s.stream.events.length;
    await s.call("REVIVE");
    await s.offers(2, 5000, beforeRevive);
  } finally {
    await teardown(s);
  }
});

test("11.8: invalid ACCEPT: TASK_DROPPED/TASK_LOST with REASON_INVALID_OFFERS; task errors", async () => {
  const legacy = await Scheduler.subscribe(c.masterUrl, {
    user: "u",
    name: "legacy",
    capabilities: [],
  });
  try {
    await legacy.offers(1);
    const launch = (id: string) => ({
      type: "LAUNCH",
      launch: {
        task_infos: [
          {
            name: id,
            task_id: { value: id },
            agent_id: { value: "x" },
            resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 1 } }],
            command: { value: "true" },
          },
        ],
      },
    });
    await legacy.call("ACCEPT", { offer_ids: [{ value: "bogus" }], operations: [launch("l1")] });
    const lost = await legacy.update((u) => u.task_id.value === "l1");
    assert.equal(lost.state, "TASK_LOST");
    assert.equal(lost.reason, "REASON_INVALID_OFFERS");
    assert.equal(lost.source, "SOURCE_MASTER");
    assert.equal(lost.uuid, undefined);
  } finally {
    await teardown(legacy);
  }
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const offers = await s.offers(2);
    const [o1, o2] = offers;
    const task = (id: string, extra: object = {}) => ({
      name: id,
      task_id: { value: id },
      agent_id: o1!.agent_id,
      resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 1 } }],
      command: { value: "sleep 30" },
      ...extra,
    });
    // Offers from two agents in one ACCEPT.
    const mark = s.stream.events.length;
    await s.call("ACCEPT", {
      offer_ids: [o1!.id, o2!.id],
      operations: [{ type: "LAUNCH", launch: { task_infos: [task("two-agents")] } }],
    });
    const dropped = await s.update((u) => u.task_id.value === "two-agents");
    assert.equal(dropped.state, "TASK_DROPPED");
    assert.equal(dropped.reason, "REASON_INVALID_OFFERS");
    // Both offers were invalidated: using o1 again is an unknown offer.
    await s.call("ACCEPT", {
      offer_ids: [o1!.id],
      operations: [{ type: "LAUNCH", launch: { task_infos: [task("reused")] } }],
    });
    assert.equal((await s.update((u) => u.task_id.value === "reused")).state, "TASK_DROPPED");
    // The invalidated offers' resources come back in new offers.
    let fresh: Ev | undefined;
    await until(async () => {
      fresh = byAgent(await s.offers(1, 5000, mark), o1!.agent_id.value);
      return !!fresh;
    });
    assert.ok(fresh);
    const bad = [
      task("no-res", { resources: [] }),
      task("both", { executor: { executor_id: { value: "e" }, command: { value: "x" } } }),
      task("too-big", { resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 999 } }] }),
      task("bad/id"),
      task("ok-1"),
      task("ok-1"),
    ];
    await s.call("ACCEPT", {
      offer_ids: [fresh!.id],
      operations: [{ type: "LAUNCH", launch: { task_infos: bad } }],
    });
    const errs: Record<string, Ev> = {};
    for (const id of ["no-res", "both", "too-big", "bad/id"]) {
      errs[id] = await s.update((u) => u.task_id.value === id);
      assert.equal(errs[id]!.state, "TASK_ERROR", id);
      assert.equal(errs[id]!.reason, "REASON_TASK_INVALID");
      assert.equal(errs[id]!.uuid, undefined);
    }
    assert.match(errs["no-res"]!.message, /no resources/);
    assert.match(errs["both"]!.message, /not both/);
    assert.match(errs["too-big"]!.message, /more resources/);
    // Updates of one task come one at a time: STARTING must be acknowledged first.
    await s.ack(await s.update((u) => u.task_id.value === "ok-1" && u.state === "TASK_STARTING"));
    await s.ack(await s.update((u) => u.task_id.value === "ok-1" && u.state === "TASK_RUNNING"));
    const dup = await s.update((u) => u.task_id.value === "ok-1" && u.state === "TASK_ERROR");
    assert.match(dup.message, /duplicate ID/);
  } finally {
    await teardown(s);
  }
});

const reservation = {
  type: "DYNAMIC",
  role: "storage",
  principal: "tester",
  labels: { labels: [{ key: "claim", value: "n0" }] },
};

test("11.10: RESERVE, CREATE, LAUNCH on the volume, DESTROY, UNRESERVE; survives framework failover", async () => {
  const info = { ...FRAMEWORK, principal: "tester" };
  let s = await Scheduler.subscribe(c.masterUrl, info);
  const agent0 = await c.agents[0]!.id();
  try {
    const o = byAgent(await s.offers(2), agent0)!;
    const mount = o.resources.find((r: Ev) => r.disk?.source?.type === "MOUNT");
    const reservedMount = { ...mount, reservations: [reservation] };
    const volume = {
      ...reservedMount,
      disk: {
        ...mount.disk,
        persistence: { id: "vol-1", principal: "tester" },
        volume: { container_path: "data", mode: "RW" },
      },
    };
    const cpus = {
      name: "cpus",
      type: "SCALAR",
      scalar: { value: 1 },
      reservations: [reservation],
    };
    const mark = s.stream.events.length;
    await s.call("ACCEPT", {
      offer_ids: [o.id],
      operations: [
        // Partial MOUNT use is refused (all or nothing); the rest proceeds.
        { type: "RESERVE", reserve: { resources: [{ ...reservedMount, scalar: { value: 100 } }] } },
        { type: "RESERVE", reserve: { resources: [reservedMount, cpus] } },
        { type: "CREATE", create: { volumes: [volume] } },
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: "writer",
                task_id: { value: "writer" },
                agent_id: o.agent_id,
                resources: [cpus, volume],
                command: { value: "echo persisted > data/file" },
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    });
    for (const st of ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]) {
      await s.ack(
        await s.update((u) => u.task_id.value === "writer" && u.state === st, 10_000, mark),
      );
    }
    const reserved =
      byAgent(await s.offers(1, 10_000, s.stream.events.length - 1), agent0) ??
      byAgent(await s.offers(2, 10_000, mark), agent0);
    assert.ok(reserved);
    const volumeDir = join(c.agents[0]!.workDir, "volumes", "roles", "storage", "vol-1");
    assert.equal(readFileSync(join(volumeDir, "file"), "utf8"), "persisted\n");
    // Failover: resubscribe and still see the volume.
    s.close();
    s = await Scheduler.subscribe(c.masterUrl, { ...info, id: { value: s.frameworkId } });
    const again = byAgent(await s.offers(2), agent0)!;
    const vol = again.resources.find((r: Ev) => r.disk?.persistence?.id === "vol-1");
    assert.ok(vol, "the volume is offered again");
    assert.deepEqual(vol.reservations, [reservation]);
    assert.deepEqual(vol.disk.volume, { container_path: "data", mode: "RW" });
    const st = JSON.parse((await http(`${c.masterUrl}/state`, { method: "GET" })).body);
    const slave = st.slaves.find((x: Ev) => x.id === agent0);
    assert.equal(slave.reserved_resources.storage.cpus, 1);
    assert.equal(slave.persistent_volumes[0].disk.persistence.id, "vol-1");
    // A second volume with the same id is refused; DESTROY then UNRESERVE.
    const cpusOffered = again.resources.find((r: Ev) => r.name === "cpus" && r.reservations);
    await s.call("ACCEPT", {
      offer_ids: [again.id],
      operations: [
        { type: "CREATE", create: { volumes: [volume] } },
        { type: "DESTROY", destroy: { volumes: [vol] } },
        {
          type: "UNRESERVE",
          unreserve: { resources: [{ ...vol, disk: { source: vol.disk.source } }, cpusOffered] },
        },
      ],
      filters: { refuse_seconds: 0 },
    });
    await until(async () => {
      const st2 = JSON.parse((await http(`${c.masterUrl}/state`, { method: "GET" })).body);
      const sl = st2.slaves.find((x: Ev) => x.id === agent0);
      return sl.persistent_volumes.length === 0 && Object.keys(sl.reserved_resources).length === 0;
    });
    await until(() => !existsSync(volumeDir), 5000, "DESTROY to delete the volume's data");
  } finally {
    await teardown(s);
  }
});

test("11.7: the fair allocator shares agents between frameworks of a role", async () => {
  const a = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, name: "a" });
  const b = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, name: "b" });
  try {
    const oa = await a.offers(1);
    // a declines for long; b must get what a does not hold.
    await a.call("DECLINE", { offer_ids: oa.map((o) => o.id), filters: { refuse_seconds: 60 } });
    const ob = await b.offers(2);
    assert.equal(new Set(ob.map((o) => o.agent_id.value)).size, 2);
  } finally {
    await teardown(a);
    await teardown(b);
  }
});

test("killing one agent of a shared host process is refused with 409 and the reason; it keeps running", async () => {
  const res = await http(`${c.masterUrl}/sim/agents/1/kill`, { method: "POST" });
  assert.equal(res.status, 409);
  assert.match(res.body, /shares its host process with 2 other agent\(s\)/);
  const state = JSON.parse((await http(`${c.masterUrl}/master/state`, { method: "GET" })).body) as {
    slaves: { active: boolean }[];
  };
  assert.equal(state.slaves.filter((s) => s.active).length, 3, "every agent still registered");
});
