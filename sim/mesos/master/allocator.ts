// A fair (DRF) allocator: every cycle, each agent's free resources go to the eligible
// framework-role with the lowest dominant share, then reserved leftovers to the next.
// Refuse filters, suppression, remote regions and maintenance are honoured here.
import { Resources, allocatableTo, keyOf, type Res } from "../common/resources.js";
import type { Agent, Framework } from "./model.js";
import type { Master } from "./master.js";

interface Candidate {
  fw: Framework;
  role: string;
  share: number;
  refinement: boolean;
}

function amount(r: Res): number {
  if (r.type === "SCALAR") return r.scalar?.value ?? 0;
  if (r.type === "RANGES") {
    return (r.ranges?.range ?? []).reduce((n, x) => n + Number(x.end) - Number(x.begin) + 1, 0);
  }
  return r.set?.item?.length ?? 0;
}

/** Cheap, allocation-free test that nothing on the agent is free (used + offered is
 *  always a subset of total, so equal amounts per identity mean equal resources). */
function fullyAllocated(a: Agent): boolean {
  for (const r of a.total.list) {
    const k = keyOf(r);
    let have = 0;
    for (const x of a.used.list) if (keyOf(x) === k) have += amount(x);
    for (const x of a.offered.list) if (keyOf(x) === k) have += amount(x);
    if (have + 1e-9 < amount(r)) return false;
  }
  return true;
}

export function allocate(m: Master): void {
  const frameworks = [...m.frameworks.values()].filter((f) => f.connected && !f.removed);
  if (frameworks.length === 0) return;
  const candidates: Candidate[] = [];
  for (const fw of frameworks) {
    for (const role of fw.roles) {
      if (fw.suppressed.has(role)) continue;
      candidates.push({
        fw,
        role,
        share: 0,
        refinement: fw.capabilities.has("RESERVATION_REFINEMENT"),
      });
    }
  }
  if (candidates.length === 0) return;
  const totals = { cpus: 0, mem: 0, disk: 0 };
  const agents: Agent[] = [];
  for (const a of m.agents.values()) {
    if (a.state !== "active" || m.maintenance.isDown(a)) continue;
    agents.push(a);
    totals.cpus += a.total.scalar("cpus");
    totals.mem += a.total.scalar("mem");
    totals.disk += a.total.scalar("disk");
  }
  const usage = new Map<string, { cpus: number; mem: number; disk: number }>();
  const shareOf = (fwId: string) => {
    const u = usage.get(fwId) ?? { cpus: 0, mem: 0, disk: 0 };
    return Math.max(
      totals.cpus ? u.cpus / totals.cpus : 0,
      totals.mem ? u.mem / totals.mem : 0,
      totals.disk ? u.disk / totals.disk : 0,
    );
  };
  for (const t of m.allTasks()) {
    if (t.released) continue;
    const u = usage.get(t.frameworkId) ?? { cpus: 0, mem: 0, disk: 0 };
    const r = new Resources(t.resources);
    u.cpus += r.scalar("cpus");
    u.mem += r.scalar("mem");
    u.disk += r.scalar("disk");
    usage.set(t.frameworkId, u);
  }
  for (const c of candidates) c.share = shareOf(c.fw.id);

  const now = Date.now();
  const batches = new Map<string, object[]>();
  for (const agent of agents) {
    if (fullyAllocated(agent)) continue;
    let free = agent.total.copy();
    if (!agent.used.empty) free.subtractAll(agent.used.list);
    if (!agent.offered.empty) free.subtractAll(agent.offered.list);
    if (free.empty) continue;
    if (candidates.length > 1) candidates.sort((a, b) => a.share - b.share);
    for (const c of candidates) {
      if (free.empty) break;
      if (!m.regionVisible(agent, c.fw)) continue;
      let offerable = free.filter((r) => allocatableTo(r, c.role));
      // Refined reservations are never offered without RESERVATION_REFINEMENT.
      if (!c.refinement) offerable = offerable.filter((r) => r.reservations.length <= 1);
      if (!c.fw.capabilities.has("GPU_RESOURCES") && agent.total.scalar("gpus") > 0) continue;
      if (offerable.empty) continue;
      const filter = c.fw.filters.get(`${agent.id} ${c.role}`);
      if (filter && filter.expires > now && filter.resources.contains(offerable.list)) continue;
      const offer = m.createOffer(c.fw, agent, c.role, offerable);
      // Everything allocatable to this role went into the offer.
      free = free.filter(
        (r) => !offerable.list.some((o) => o.name === r.name && keyOf(o) === keyOf(r)),
      );
      const list = batches.get(c.fw.id) ?? [];
      list.push(offer);
      batches.set(c.fw.id, list);
      const u = usage.get(c.fw.id) ?? { cpus: 0, mem: 0, disk: 0 };
      u.cpus += offerable.scalar("cpus");
      u.mem += offerable.scalar("mem");
      u.disk += offerable.scalar("disk");
      usage.set(c.fw.id, u);
      for (const other of candidates) if (other.fw === c.fw) other.share = shareOf(c.fw.id);
    }
  }
  for (const [fwId, offers] of batches) {
    const fw = m.frameworks.get(fwId)!;
    fw.stream?.send({ type: "OFFERS", offers: { offers } });
  }
}
