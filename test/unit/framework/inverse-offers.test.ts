// The framework's answers to Mesos maintenance: each inverse offer gets the platform's
// current decision (accept, or decline with a short refuse filter so Mesos asks again);
// each decision is an event once (not every time Mesos asks again); an agent offered again
// without unavailability has its window over (told to the platform once); the agents asked
// for survive a restart.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import {
  InverseOfferResponder,
  windowOf,
  type MaintenanceAnswer,
} from "../../../src/framework/maintenance/inverse-offers.js";
import type { InverseOffer, Offer } from "../../../src/mesos/types/common.js";
import { silentLogger } from "../../../src/mesos/logger.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const START_NS = 1_735_689_600_000_000_000n;
const io = (id: string, agent: string): InverseOffer => ({
  id: { value: id },
  framework_id: { value: "fw" },
  agent_id: { value: agent },
  unavailability: {
    start: { nanoseconds: START_NS },
    duration: { nanoseconds: 7_200_000_000_000n },
  },
});
const offer = (agent: string, draining = false): Offer =>
  ({
    id: { value: `o-${agent}` },
    framework_id: { value: "fw" },
    agent_id: { value: agent },
    hostname: `host-${agent}`,
    ...(draining ? { unavailability: { start: { nanoseconds: START_NS } } } : {}),
  }) as Offer;

async function setup(
  dir = mkdtempSync(join(tmpdir(), "inverse-")),
  answers: Record<string, MaintenanceAnswer | Error> = {},
) {
  const store = await FileStateStore.open(dir);
  const calls: { type: string; ids: string[]; refuse?: number }[] = [];
  const events: string[] = [];
  const over: string[] = [];
  const asked: { agentId: string; startMs: number; endMs?: number }[] = [];
  let discovered = 0;
  const r = new InverseOfferResponder({
    party: {
      onInverseOffer: async (agentId, w) => {
        asked.push({ agentId, ...w });
        const a = answers[agentId] ?? "accept";
        if (a instanceof Error) throw a;
        return a;
      },
      onMaintenanceOver: async (agentId) => {
        over.push(agentId);
      },
    },
    client: {
      acceptInverseOffers: (ids, f) =>
        calls.push({ type: "ACCEPT", ids: ids.map((i) => i.value), refuse: f?.refuse_seconds }),
      declineInverseOffers: (ids, f) =>
        calls.push({ type: "DECLINE", ids: ids.map((i) => i.value), refuse: f?.refuse_seconds }),
    },
    store,
    logger: silentLogger,
    notify: (_l, m) => events.push(m),
    hostnameOf: (id) => `host-${id}`,
    discover: () => discovered++,
    refuseSeconds: 3,
  });
  await r.load();
  cleanups.push(async () => {
    r.stop();
    await store.close();
  });
  return { r, calls, events, over, asked, dir, discovered: () => discovered };
}

test("the window in milliseconds", () => {
  assert.deepEqual(windowOf(io("x", "a")), {
    startMs: 1_735_689_600_000,
    endMs: 1_735_689_600_000 + 7_200_000,
  });
});

test("accept and decline as the platform decides, with a short refuse filter; each decision told once", async () => {
  const answers: Record<string, MaintenanceAnswer | Error> = {
    S1: { decline: "SDS sds2 of PD default is already in maintenance" },
    S2: "accept",
    S3: new Error("gateway unreachable"),
  };
  const { r, calls, events, asked } = await setup(undefined, answers);
  await r.onInverseOffers([io("i1", "S1"), io("i2", "S2"), io("i3", "S3")]);
  assert.deepEqual(
    calls.sort((a, b) => a.ids[0]!.localeCompare(b.ids[0]!)),
    [
      { type: "DECLINE", ids: ["i1"], refuse: 3 },
      { type: "ACCEPT", ids: ["i2"], refuse: 3 },
      { type: "DECLINE", ids: ["i3"], refuse: 3 },
    ],
  );
  assert.equal(asked[0]!.startMs, 1_735_689_600_000);
  assert.ok(
    events.includes(
      "declined the inverse offer for agent S1 (host-S1): SDS sds2 of PD default is already in maintenance",
    ),
  );
  assert.ok(events.includes("accepted the inverse offer for agent S2 (host-S2)"));
  assert.ok(
    events.includes(
      "declined the inverse offer for agent S3 (host-S3): no decision: gateway unreachable",
    ),
  );
  // Mesos asks again: the same answer is not a new event; a changed one is.
  await r.onInverseOffers([io("i4", "S1")]);
  assert.equal(events.filter((e) => e.includes("agent S1")).length, 1);
  answers.S1 = "accept";
  await r.onInverseOffers([io("i5", "S1")]);
  assert.ok(events.includes("accepted the inverse offer for agent S1 (host-S1)"));
  assert.deepEqual(r.drainingAgents.sort(), ["S1", "S2", "S3"]);
});

test("an agent offered again without unavailability: its window is over, told once; offers with unavailability change nothing", async () => {
  const { r, over, events } = await setup();
  await r.onInverseOffers([io("i1", "S1")]);
  await r.onOffers([offer("S1", true), offer("S9")]);
  assert.deepEqual(over, []);
  await r.onOffers([offer("S1")]);
  await r.onOffers([offer("S1")]);
  assert.deepEqual(over, ["S1"]);
  assert.ok(
    events.includes("maintenance of agent S1 (host-S1) is over (offered without unavailability)"),
  );
  assert.deepEqual(r.drainingAgents, []);
});

test("the agents asked for survive a restart", async () => {
  const first = await setup();
  await first.r.onInverseOffers([io("i1", "S1")]);
  first.r.stop();
  const again = await setup(first.dir);
  assert.deepEqual(again.r.drainingAgents, ["S1"]);
  await again.r.onOffers([offer("S1")]);
  assert.deepEqual(again.over, ["S1"]);
});

test("a machine back under a new agent id ends the old agent's window; ids stored alone (older versions) still load", async () => {
  const first = await setup();
  await first.r.onInverseOffers([
    {
      ...io("i1", "S1"),
      url: { scheme: "http", address: { hostname: "Node-A", ip: "10.0.0.1", port: 5051 } },
    },
  ]);
  const reborn = {
    ...offer("S7"),
    hostname: "node-a",
    url: { scheme: "http", address: { hostname: "node-a", ip: "10.0.0.1", port: 5051 } },
  } as Offer;
  const elsewhere = {
    ...offer("S8"),
    url: { scheme: "http", address: { hostname: "node-a", ip: "10.0.0.2", port: 5051 } },
  } as Offer;
  await first.r.onOffers([elsewhere]);
  assert.deepEqual(first.over, [], "another machine");
  await first.r.onOffers([reborn]);
  assert.deepEqual(first.over, ["S1"]);
  first.r.stop();
  const dir = mkdtempSync(join(tmpdir(), "inverse-"));
  const store = await FileStateStore.open(dir);
  await store.set("framework/maintenance-draining", ["S5"]);
  await store.close();
  const old = await setup(dir);
  assert.deepEqual(old.r.drainingAgents, ["S5"]);
});
