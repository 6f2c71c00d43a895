// The platform's cluster operations: the layout applied with per-agent problems reported on
// the agent, and the verification that makes a deploy "done".
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewayClusterOps } from "../../../src/platforms/scaleio/gateway-ops.js";
import type { StorageLayout } from "../../../src/platforms/scaleio/topology/storage.js";
import type { StepContext } from "../../../src/framework/plan/types.js";
import { PermanentStepError } from "../../../src/framework/plan/types.js";
import { startEnv } from "./support.js";

const ctx = (): StepContext & { messages: string[] } => {
  const messages: string[] = [];
  return {
    planId: "deploy",
    stepId: "storage/layout",
    attempt: 1,
    signal: new AbortController().signal,
    progress: (m) => messages.push(m),
    messages,
  };
};
const ip = (id: string) =>
  ({ a1: "10.20.0.11", a2: "10.20.0.12", a3: "10.20.0.13", a4: "10.20.0.99" })[id] ?? id;

test(
  "domains, then one step per agent: one agent's trouble is its own; then verification passes",
  { timeout: 60_000 },
  async () => {
    const env = await startEnv({
      mdmOnly: { nodes: 3, devices: ["/dev/sdb", "/dev/sdc"], sdcs: 1 },
    });
    try {
      const problems: [string, string][] = [];
      const ops = gatewayClusterOps({
        client: env.client,
        system: { name: "scaleio" },
        onAgentProblem: (a, m) => problems.push([a, m]),
      });
      const node = (agentId: string, devices: string[]) => ({
        agentId,
        sds: { protectionDomain: "default", pools: [{ pool: "default", devices }] },
        sdc: { protectionDomain: "default", storagePool: "default" },
        problems: [],
      });
      const layout: StorageLayout = {
        domains: [{ name: "default", faultSets: [], pools: [{ name: "default" }] }],
        // a4 shares nothing with the emulator's nodes: its SDS cannot be reached (no SDS package there).
        nodes: [
          node("a1", ["/dev/sdb", "/dev/sdc"]),
          node("a2", ["/dev/sdb"]),
          node("a3", ["/dev/sdb"]),
          node("a4", ["/dev/sdb"]),
        ],
      };
      const c = ctx();
      await ops.prepareDomains(layout, c);
      for (const a of ["a1", "a2", "a3"]) await ops.applyAgent(layout, a, ip, ctx());
      // a4's SDS cannot be created (no SDS package on that machine): its own step fails and
      // will be retried; the other agents are in place.
      await assert.rejects(ops.applyAgent(layout, "a4", ip, ctx()), /Could not connect to the SDS/);
      assert.deepEqual(
        problems.map(([a]) => a),
        ["a4"],
      );
      // What the verification showed is the finished step's text.
      assert.match(
        String(await ops.verify(ctx())),
        /test volume .* created, mapped, unmapped and removed/,
      );
      const s = await ops.summary();
      assert.equal(s.sdsTotal, 3);
      assert.ok(s.usableCapacityKb > 0);
    } finally {
      await env.close();
    }
  },
);

test(
  "no quorum: the domains step fails so that it is retried, not skipped",
  { timeout: 60_000 },
  async () => {
    const env = await startEnv({ mdmOnly: { nodes: 3, devices: ["/dev/sdb"] } });
    try {
      await env.admin("/admin/mdm/10.20.0.12/kill");
      await env.admin("/admin/mdm/10.20.0.13/kill");
      const ops = gatewayClusterOps({ client: env.client, system: { name: "scaleio" } });
      const layout: StorageLayout = {
        domains: [{ name: "default", faultSets: [], pools: [{ name: "default" }] }],
        nodes: [],
      };
      await assert.rejects(
        ops.prepareDomains(layout, ctx()),
        (e: unknown) => !(e instanceof PermanentStepError),
      );
    } finally {
      await env.close();
    }
  },
);

test(
  "the domains step sets the MDM's capacity alert thresholds of its pools, once: its alerts follow the configured warning",
  { timeout: 60_000 },
  async () => {
    const env = await startEnv({ mdmOnly: { nodes: 3, devices: ["/dev/sdb"] } });
    try {
      let sets = 0;
      const set = env.client.setCapacityAlertThresholds;
      env.client.setCapacityAlertThresholds = (...a) => {
        sets++;
        return set(...a);
      };
      const ops = gatewayClusterOps({
        client: env.client,
        system: { name: "scaleio" },
        capacityAlerts: { warningPercent: 70.5, criticalPercent: 85.5 },
      });
      const layout: StorageLayout = {
        domains: [{ name: "default", faultSets: [], pools: [{ name: "default" }, { name: "b" }] }],
        nodes: [1, 2, 3].map((i) => ({
          agentId: `a${i}`,
          sds: { protectionDomain: "default", pools: [{ pool: "default", devices: ["/dev/sdb"] }] },
          sdc: { protectionDomain: "default", storagePool: "default" },
          problems: [],
        })),
      };
      await ops.prepareDomains(layout, ctx());
      const thresholds = () =>
        [...env.emu.sys.pools.values()]
          .map(
            (p) => `${p.name}:${p.capacityAlertHighThreshold}/${p.capacityAlertCriticalThreshold}`,
          )
          .sort();
      // Whole percents: the warning rounds down, critical up (neither alert comes later).
      assert.deepEqual(thresholds(), ["b:70/86", "default:70/86"]);
      assert.equal(sets, 2);
      await ops.prepareDomains(layout, ctx());
      for (const a of ["a1", "a2", "a3"]) await ops.applyAgent(layout, a, ip, ctx());
      assert.equal(sets, 2, "read before set: nothing set again");

      // The MDM now warns at 70 %, where its default (80) would still be silent.
      const pool = [...env.emu.sys.pools.values()].find((p) => p.name === "default")!;
      await env.admin(`/admin/pools/${pool.id}/fill`, { percent: 75 });
      const alerts = (await env.client.alerts()).map((a) => a.alertType);
      assert.ok(alerts.includes("CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD"), alerts.join(","));

      // Someone changed them on the MDM: the next run puts them back.
      env.emu.sys.setCapacityThresholds(pool.id, 80, 90);
      await ops.prepareDomains(layout, ctx());
      assert.equal(sets, 3);
      assert.deepEqual(thresholds(), ["b:70/86", "default:70/86"]);
    } finally {
      await env.close();
    }
  },
);
