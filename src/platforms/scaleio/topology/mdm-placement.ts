// Chooses the MDM cluster members when the framework provisions a cluster: 3 nodes (primary
// and secondary managers plus a tie-breaker) or 5 (three managers, two tie-breakers). Never
// two members on one agent; spread across failure domains whenever enough domains exist;
// operators can pin members with the `scaleio-persona` attribute; a previous choice is kept
// as long as its agents exist, so a restart never reshuffles a running cluster.
import { failureDomainOf, TopologyError, type AgentFacts } from "./facts.js";

export type MdmRole = "primary" | "secondary" | "tiebreaker";

export interface MdmMember {
  role: MdmRole;
  /** mdm1, mdm2, mdm3 for managers; tb1, tb2 for tie-breakers (the predecessor used `tb`). */
  name: string;
  agentId: string;
}

export interface MdmPlacement {
  members: MdmMember[];
  /** Notes for operators, e.g. two members had to share a failure domain. */
  warnings: string[];
}

export const PERSONA_ATTRIBUTE = "scaleio-persona";
const PERSONAS = ["primary", "secondary", "manager", "tiebreaker", "tb", "data", "none"] as const;

export interface PlacementInput {
  agents: AgentFacts[];
  size: 3 | 5;
  /** Resources one MDM node needs free. */
  need: { cpus: number; memMb: number };
  /** The placement chosen earlier (persisted), if any. */
  previous?: MdmMember[];
}

export type PlacementResult =
  { ok: true; placement: MdmPlacement } | { ok: false; reason: string; waitingForAgents: boolean };

function slots(size: 3 | 5): { role: MdmRole; name: string }[] {
  return size === 3
    ? [
        { role: "primary", name: "mdm1" },
        { role: "secondary", name: "mdm2" },
        { role: "tiebreaker", name: "tb1" },
      ]
    : [
        { role: "primary", name: "mdm1" },
        { role: "secondary", name: "mdm2" },
        { role: "secondary", name: "mdm3" },
        { role: "tiebreaker", name: "tb1" },
        { role: "tiebreaker", name: "tb2" },
      ];
}

function personaOf(agent: AgentFacts): (typeof PERSONAS)[number] | undefined {
  const raw = agent.attributes[PERSONA_ATTRIBUTE];
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (!(PERSONAS as readonly string[]).includes(v)) {
    throw new TopologyError(
      `agent ${agent.hostname}: ${PERSONA_ATTRIBUTE} '${raw}' is not one of ${PERSONAS.join(", ")}`,
      agent.agentId,
    );
  }
  return v as (typeof PERSONAS)[number];
}

function fits(agent: AgentFacts, need: PlacementInput["need"]): boolean {
  return agent.resources.cpus >= need.cpus && agent.resources.memMb >= need.memMb;
}

/** Throws TopologyError for contradictory pins; otherwise says who goes where (or why not yet). */
export function placeMdms(input: PlacementInput): PlacementResult {
  const wanted = slots(input.size);
  const byId = new Map(input.agents.map((a) => [a.agentId, a]));

  // A previous placement always stands: replacing a lost member is recovery's job, never a
  // silent reshuffle of a cluster that holds data.
  if (input.previous && input.previous.length > 0) {
    const missing = input.previous.filter((m) => !byId.has(m.agentId));
    return {
      ok: true,
      placement: {
        members: input.previous,
        warnings: missing.map(
          (m) => `${m.name} (${m.role}) is on agent ${m.agentId}, which is not currently known`,
        ),
      },
    };
  }

  const pinned = new Map<string, AgentFacts[]>();
  const excluded = new Set<string>();
  for (const agent of input.agents) {
    const p = personaOf(agent);
    if (!p) continue;
    if (p === "data" || p === "none") {
      excluded.add(agent.agentId);
      continue;
    }
    const role: MdmRole =
      p === "tb" || p === "tiebreaker" ? "tiebreaker" : p === "primary" ? "primary" : "secondary";
    pinned.set(role, [...(pinned.get(role) ?? []), agent]);
  }
  // "manager" pins fill secondary slots; a pinned primary must be unique.
  for (const role of ["primary", "secondary", "tiebreaker"] as const) {
    const capacity = wanted.filter((s) => s.role === role).length;
    const list = pinned.get(role) ?? [];
    if (list.length > capacity) {
      throw new TopologyError(
        `${list.length} agents are pinned as ${role} (${list.map((a) => a.hostname).join(", ")}) but a ${input.size}-node MDM cluster has ${capacity} such member${capacity === 1 ? "" : "s"}`,
      );
    }
  }

  const chosen = new Map<string, AgentFacts>();
  const members: MdmMember[] = [];
  const usedDomains = new Set<string>();
  const warnings: string[] = [];
  const domainKey = (a: AgentFacts) => failureDomainOf(a) ?? `agent:${a.agentId}`;

  // Pinned agents first, in slot order.
  const remainingSlots: { role: MdmRole; name: string }[] = [];
  const pinQueue = new Map([...pinned].map(([k, v]) => [k, [...v]]));
  for (const slot of wanted) {
    const agent = pinQueue.get(slot.role)?.shift();
    if (agent) {
      chosen.set(agent.agentId, agent);
      usedDomains.add(domainKey(agent));
      members.push({ role: slot.role, name: slot.name, agentId: agent.agentId });
    } else {
      remainingSlots.push(slot);
    }
  }

  const candidates = input.agents
    .filter((a) => !chosen.has(a.agentId) && !excluded.has(a.agentId) && fits(a, input.need))
    .sort(
      (a, b) =>
        b.resources.cpus - a.resources.cpus ||
        b.resources.memMb - a.resources.memMb ||
        a.hostname.localeCompare(b.hostname) ||
        a.agentId.localeCompare(b.agentId),
    );

  for (const slot of remainingSlots) {
    const pool = candidates.filter((a) => !chosen.has(a.agentId));
    if (pool.length === 0) {
      const have = chosen.size;
      return {
        ok: false,
        waitingForAgents: true,
        reason: `a ${input.size}-node MDM cluster needs ${input.size} agents with at least ${input.need.cpus} CPUs and ${input.need.memMb} MB free; ${have + pool.length} qualify so far`,
      };
    }
    const fresh = pool.find((a) => !usedDomains.has(domainKey(a)));
    const pick = fresh ?? pool[0]!;
    if (!fresh) {
      warnings.push(
        `${slot.name} on ${pick.hostname} shares failure domain ${failureDomainOf(pick) ?? "(none)"} with another MDM: not enough failure domains`,
      );
    }
    chosen.set(pick.agentId, pick);
    usedDomains.add(domainKey(pick));
    members.push({ role: slot.role, name: slot.name, agentId: pick.agentId });
  }

  const order = new Map(wanted.map((s, i) => [s.name, i]));
  members.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { ok: true, placement: { members, warnings } };
}

export interface ReplacementInput {
  /** Agents that may take the place (the caller leaves out lost and retired ones). */
  agents: AgentFacts[];
  /** The placement as it stands. */
  members: MdmMember[];
  /** The agent whose member is replaced. */
  failedAgentId: string;
  need: PlacementInput["need"];
}

export type ReplacementResult =
  | {
      ok: true;
      /** The placement once the replacement is done. */
      members: MdmMember[];
      failed: MdmMember;
      added: MdmMember;
      warnings: string[];
    }
  | { ok: false; reason: string };

/**
 * A new agent for one member, by the first placement's rules: not already a member, not
 * pinned away from this kind of member (a `data`/`none` persona, or a persona of the other
 * kind), with the resources an MDM needs, in a failure domain no remaining member uses when
 * one exists; agents pinned to this kind first. A lost primary's place as primary goes to a
 * remaining manager (the slave has taken over as master); the new agent joins as secondary.
 * The new member gets a name no current member has (the failed one keeps its own until removed).
 */
export function placeReplacement(input: ReplacementInput): ReplacementResult {
  const failed = input.members.find((m) => m.agentId === input.failedAgentId);
  if (!failed) return { ok: false, reason: `agent ${input.failedAgentId} holds no MDM member` };
  const tb = failed.role === "tiebreaker";
  const rest = input.members.filter((m) => m !== failed);
  const memberIds = new Set(input.members.map((m) => m.agentId));
  const byId = new Map(input.agents.map((a) => [a.agentId, a]));
  const domainKey = (a: AgentFacts) => failureDomainOf(a) ?? `agent:${a.agentId}`;
  const used = new Set(
    rest.flatMap((m) => {
      const a = byId.get(m.agentId);
      return a ? [domainKey(a)] : [];
    }),
  );
  const kindOf = (a: AgentFacts): "manager" | "tiebreaker" | "none" | undefined => {
    const p = personaOf(a);
    if (p === undefined) return undefined;
    if (p === "data" || p === "none") return "none";
    return p === "tb" || p === "tiebreaker" ? "tiebreaker" : "manager";
  };
  const want = tb ? "tiebreaker" : "manager";
  const candidates = input.agents
    .filter((a) => !memberIds.has(a.agentId) && fits(a, input.need))
    .filter((a) => {
      const k = kindOf(a);
      return k === undefined || k === want;
    })
    .sort(
      (a, b) =>
        Number(kindOf(b) === want) - Number(kindOf(a) === want) ||
        b.resources.cpus - a.resources.cpus ||
        b.resources.memMb - a.resources.memMb ||
        a.hostname.localeCompare(b.hostname) ||
        a.agentId.localeCompare(b.agentId),
    );
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: `no agent can take ${failed.name}'s place: a new ${want} needs an agent that is no MDM member yet, not pinned elsewhere by ${PERSONA_ATTRIBUTE}, with at least ${input.need.cpus} CPUs and ${input.need.memMb} MB free`,
    };
  }
  const fresh = candidates.find((a) => !used.has(domainKey(a)));
  const pick = fresh ?? candidates[0]!;
  const prefix = tb ? "tb" : "mdm";
  const names = new Set(input.members.map((m) => m.name));
  let n = 1;
  while (names.has(`${prefix}${n}`)) n++;
  const warnings = fresh
    ? []
    : [
        `${prefix}${n} on ${pick.hostname} shares failure domain ${failureDomainOf(pick) ?? "(none)"} with another MDM: not enough failure domains`,
      ];
  let role: MdmRole = failed.role;
  const members = rest.map((m) => ({ ...m }));
  if (failed.role === "primary") {
    // The slave became master when the primary was lost: it is the primary from now on.
    const heir = members.find((m) => m.role === "secondary");
    if (heir) heir.role = "primary";
    role = "secondary";
  }
  const added: MdmMember = { role, name: `${prefix}${n}`, agentId: pick.agentId };
  members.push(added);
  const rank: Record<MdmRole, number> = { primary: 0, secondary: 1, tiebreaker: 2 };
  members.sort((a, b) => rank[a.role] - rank[b.role] || a.name.localeCompare(b.name));
  return { ok: true, members, failed, added, warnings };
}
