// The platform's cluster-side operations, on the REST gateway: apply the storage layout
// (one agent's conflict is that agent's problem, never the cluster's), and verify that the
// cluster serves before calling the deploy done.
import type { StepContext } from "../../framework/plan/types.js";
import { PermanentStepError } from "../../framework/plan/types.js";
import type { GatewayClient } from "./gateway/client.js";
import {
  applyLayout,
  clusterSummary,
  findSystem,
  verifyVolumeLifecycle,
  type ClusterSummary,
} from "./cluster/index.js";
import type { ClusterOps } from "./platform.js";
import type { StorageLayout } from "./topology/storage.js";

export interface GatewayOpsOptions {
  /** The gateway client, or how to get it once its address is known (after MDM placement). */
  client: GatewayClient | (() => GatewayClient);
  system: { name?: string; id?: string };
  /** Per-agent problems found while applying the layout (shown on the node). */
  onAgentProblem?: (agentId: string, message: string) => void;
  /**
   * The health checks' capacity thresholds, also set as the MDM's capacity alert thresholds
   * of every pool prepared, so that its alerts and our conditions agree.
   */
  capacityAlerts?: { warningPercent: number; criticalPercent: number };
}

/**
 * The MDM takes whole percents: the warning rounds down and critical up, so that neither
 * alert comes later than the condition it matches.
 */
export function mdmCapacityThresholds(a: { warningPercent: number; criticalPercent: number }): {
  high: number;
  critical: number;
} {
  return { high: Math.floor(a.warningPercent), critical: Math.ceil(a.criticalPercent) };
}

export function gatewayClusterOps(
  opts: GatewayOpsOptions,
): ClusterOps & { summary(): Promise<ClusterSummary> } & Required<Pick<ClusterOps, "observe">> {
  const gw = () => (typeof opts.client === "function" ? opts.client() : opts.client);
  const apply = opts.capacityAlerts
    ? { capacityAlertThresholds: mdmCapacityThresholds(opts.capacityAlerts) }
    : {};
  return {
    async prepareDomains(layout: StorageLayout, ctx: StepContext) {
      const client = gw();
      const system = await findSystem(client, opts.system);
      ctx.progress(
        `preparing ${layout.domains.length} protection domain(s) in ${system.name ?? system.id}`,
      );
      const r = await applyLayout(
        client,
        system.id,
        { domains: layout.domains, nodes: [] },
        (id) => id,
        apply,
      );
      const problems = Object.entries(r.domainErrors);
      if (problems.length === 0) return;
      const text = problems.map(([d, e]) => `${d}: ${e.message}`).join("; ");
      // A passing reason (gateway away, no quorum) retries; a conflict waits for an operator.
      if (problems.some(([, e]) => e.retryable)) throw new Error(text);
      throw new PermanentStepError(text);
    },
    async applyAgent(
      layout: StorageLayout,
      agentId: string,
      ipOf: (agentId: string) => string,
      ctx: StepContext,
    ) {
      const client = gw();
      const node = layout.nodes.find((n) => n.agentId === agentId);
      if (!node?.sds) return;
      const system = await findSystem(client, opts.system);
      const domains = layout.domains.filter((d) => d.name === node.sds!.protectionDomain);
      const r = await applyLayout(client, system.id, { domains, nodes: [node] }, ipOf, apply);
      const err = r.errors[agentId] ?? Object.values(r.domainErrors)[0];
      if (err) {
        opts.onAgentProblem?.(agentId, err.message);
        if (err.retryable) throw new Error(err.message);
        throw new PermanentStepError(err.message);
      }
      const done = r.agents[agentId];
      ctx.progress(
        `SDS ${done ? done.sdsId : "?"} at ${ipOf(agentId)} with ${node.sds.pools.reduce((n, p) => n + p.devices.length, 0)} device(s)`,
      );
    },
    async setSpare(poolId: string, percent: number) {
      await gw().setSparePercentage(poolId, percent);
    },
    async verify(_ctx: StepContext) {
      const client = gw();
      const s = await clusterSummary(client, opts.system);
      const bad: string[] = [];
      if (s.clusterState && !/normal/i.test(s.clusterState))
        bad.push(`cluster state is ${s.clusterState}`);
      if (s.sdsConnected < s.sdsTotal)
        bad.push(`${s.sdsTotal - s.sdsConnected} of ${s.sdsTotal} SDSs disconnected`);
      if (s.sdcConnected < s.sdcTotal)
        bad.push(`${s.sdcTotal - s.sdcConnected} of ${s.sdcTotal} SDCs disconnected`);
      if (s.sdsTotal === 0) bad.push("no SDS joined");
      if (bad.length > 0) throw new Error(`not healthy yet: ${bad.join(", ")}`);
      const pools = await client.allStoragePools();
      const sdcs = (await client.allSdcs()).filter((c) => c.mdmConnectionState === "Connected");
      if (pools.length === 0 || sdcs.length === 0)
        throw new Error("no storage pool or no connected SDC to test a volume with");
      const probe = await verifyVolumeLifecycle(client, {
        storagePoolId: pools[0]!.id,
        sdcId: sdcs[0]!.id,
      });
      return `test volume ${probe.name} created, mapped, unmapped and removed`;
    },
    summary: () => clusterSummary(gw(), opts.system),
    async observe() {
      const client = gw();
      const summary = await clusterSummary(client, opts.system);
      const sdcs = (await client.sdcs(summary.systemId)).map((c) => ({
        ...(c.sdcIp ? { ip: c.sdcIp } : {}),
        ...(c.sdcGuid ? { guid: c.sdcGuid } : {}),
        ...(c.mdmConnectionState ? { state: c.mdmConnectionState } : {}),
      }));
      return { summary, sdcs };
    },
  };
}
