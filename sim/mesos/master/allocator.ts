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

/**
 * What an agent looked like when a cycle offered it to nobody: until it changes (its
 * resources, the candidates, their filters) or the first of those filters expires, later
 * cycles skip it. Real Mesos allocates from sorted state in C++; this keeps a cycle over a
 * thousand idle agents from costing the development master a core.
 */
interface Unoffered {
  total: Resources;
  used: Resources;
  offered: Resources;
  versions: string;
  candidates: string;
  filters: unknown[];
  until: number;
}
const unoffered = new WeakMap<Agent, Unoffered>();

function versionsOf(a: Agent): string {
  return `${a.total.version}/${a.used.version}/${a.offered.version}`;
}

function stillUnoffered(a: Agent, cands: Candidate[], sig: string, now: number): boolean {
  const u = unoffered.get(a);
  if (!u || now >= u.until || u.candidates !== sig) return false;
  if (u.total !== a.total || u.used !== a.used || u.offered !== a.offered) return false;
  if (u.versions !== versionsOf(a)) return false;
  return cands.every((c, i) => c.fw.filters.get(`${a.id} ${c.role}`) === u.filters[i]);
}

/** An agent's total cpus, mem and disk, as of its resources' version (they rarely change). */
const totalsMemo = new WeakMap<
  Resources,
  { version: number; cpus: number; mem: number; disk: number }
>();
function scalarsOf(r: Resources): { cpus: number; mem: number; disk: number } {
  let t = totalsMemo.get(r);
  if (!t || t.version !== r.version) {
    t = {
      version: r.version,
      cpus: r.scalar("cpus"),
      mem: r.scalar("mem"),
      disk: r.scalar("disk"),
    };
    totalsMemo.set(r, t);
  }
  return t;
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
  const now = Date.now();
  // In a fixed order for the memo (the loop below sorts its own copy by share).
  const sig = candidates.map((c) => `${c.fw.id} ${c.role}`).join(",");
  const agents: Agent[] = [];
  const todo: Agent[] = [];
  for (const a of m.agents.values()) {
    if (a.state !== "active" || m.maintenance.isDown(a)) continue;
    agents.push(a);
    if (!stillUnoffered(a, candidates, sig, now)) todo.push(a);
  }
  // Most cycles of a busy cluster find nothing new: the shares are not worth computing.
  if (todo.length === 0) return;
  const totals = { cpus: 0, mem: 0, disk: 0 };
  for (const a of agents) {
    const t = scalarsOf(a.total);
    totals.cpus += t.cpus;
    totals.mem += t.mem;
    totals.disk += t.disk;
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
    for (const r of t.resources) {
      if (r.name === "cpus" || r.name === "mem" || r.name === "disk")
        u[r.name] += r.scalar?.value ?? 0;
    }
    usage.set(t.frameworkId, u);
  }
  for (const c of candidates) c.share = shareOf(c.fw.id);

  const batches = new Map<string, object[]>();
  const byShare = [...candidates];
  for (const agent of todo) {
    let until = Number.POSITIVE_INFINITY;
    const remember = () =>
      unoffered.set(agent, {
        total: agent.total,
        used: agent.used,
        offered: agent.offered,
        versions: versionsOf(agent),
        candidates: sig,
        filters: candidates.map((c) => c.fw.filters.get(`${agent.id} ${c.role}`)),
        until,
      });
    unoffered.delete(agent);
    if (fullyAllocated(agent)) {
      remember();
      continue;
    }
    let free = agent.total.copy();
    if (!agent.used.empty) free.subtractAll(agent.used.list);
    if (!agent.offered.empty) free.subtractAll(agent.offered.list);
    if (free.empty) {
      remember();
      continue;
    }
    if (byShare.length > 1) byShare.sort((a, b) => a.share - b.share);
    let offeredAny = false;
    for (const c of byShare) {
      if (free.empty) break;
      if (!m.regionVisible(agent, c.fw)) continue;
      let offerable = free.filter((r) => allocatableTo(r, c.role));
      // Refined reservations are never offered without RESERVATION_REFINEMENT.
      if (!c.refinement) offerable = offerable.filter((r) => r.reservations.length <= 1);
      if (!c.fw.capabilities.has("GPU_RESOURCES") && agent.total.scalar("gpus") > 0) continue;
      if (offerable.empty) continue;
      const filter = c.fw.filters.get(`${agent.id} ${c.role}`);
      if (filter && filter.expires > now && filter.resources.contains(offerable.list)) {
        until = Math.min(until, filter.expires);
        continue;
      }
      offeredAny = true;
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
    if (!offeredAny) remember();
  }
  for (const [fwId, offers] of batches) {
    const fw = m.frameworks.get(fwId)!;
    fw.stream?.send({ type: "OFFERS", offers: { offers } });
  }
}
