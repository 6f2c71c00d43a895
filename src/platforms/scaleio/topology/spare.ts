// The spare policy: a pool keeps at least its largest fault unit's share of its capacity as
// spare (reference 5.1: with three equal SDSs, 34 %), so the loss of any one fault unit can be
// rebuilt in full. Fault units are fault sets, or SDSs outside any. An operator's own value
// (declarative topology) wins; the health checks then say when it is too small.
import type { AgentFacts } from "./facts.js";
import type { StorageLayout } from "./storage.js";

/** ScaleIO needs three fault units in a pool before it serves volumes (reference 5.5). */
const MIN_FAULT_UNITS = 3;

/**
 * The spare percentage each pool needs, by `<domain>/<pool>`, from the devices the layout
 * assigns and their sizes; pools with fewer than three fault units (or unknown sizes) are
 * left out: nothing sensible can be said of them yet.
 */
export function neededSpare(layout: StorageLayout, agents: AgentFacts[]): Map<string, number> {
  const sizes = new Map<string, Map<string, number>>();
  for (const a of agents)
    sizes.set(a.agentId, new Map((a.devices ?? []).map((d) => [d.path, d.sizeBytes] as const)));
  const units = new Map<string, Map<string, number>>();
  for (const n of layout.nodes) {
    if (!n.sds) continue;
    const unit = n.sds.faultSet ? `fault-set:${n.sds.faultSet}` : `sds:${n.agentId}`;
    for (const p of n.sds.pools) {
      const key = `${n.sds.protectionDomain}/${p.pool}`;
      const perUnit = units.get(key) ?? new Map<string, number>();
      for (const d of p.devices) {
        const size = sizes.get(n.agentId)?.get(d) ?? 0;
        perUnit.set(unit, (perUnit.get(unit) ?? 0) + size);
      }
      units.set(key, perUnit);
    }
  }
  const out = new Map<string, number>();
  for (const [key, perUnit] of units) {
    const caps = [...perUnit.values()].filter((c) => c > 0);
    if (caps.length < MIN_FAULT_UNITS) continue;
    const total = caps.reduce((a, b) => a + b, 0);
    out.set(key, Math.min(99, Math.ceil((Math.max(...caps) / total) * 100 - 1e-9)));
  }
  return out;
}

/** The layout with the needed spare on every pool the operator left without one. */
export function withSparePolicy(layout: StorageLayout, needed: Map<string, number>): StorageLayout {
  return {
    ...layout,
    domains: layout.domains.map((d) => ({
      ...d,
      pools: d.pools.map((p) => {
        const want = needed.get(`${d.name}/${p.name}`);
        return p.sparePercentage !== undefined || want === undefined
          ? p
          : { ...p, sparePercentage: want };
      }),
    })),
  };
}
