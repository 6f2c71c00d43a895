// What the framework knows of each agent, learned from its offers: identity, address,
// attributes, fault domain and unreserved resources. Agents are remembered (persisted) so
// that an agent that goes away is known to be gone, not new, when it comes back.
import { EventEmitter } from "node:events";
import type { Offer } from "../mesos/types/common.js";
import type { StateStore } from "../store/store.js";
import { LatestWriter } from "../store/latest-writer.js";
import {
  amountOf,
  attributesAsText,
  isUnreserved,
  offerAddress,
  type Amount,
} from "./resources.js";

export interface AgentRecord {
  agentId: string;
  hostname: string;
  ip: string;
  attributes: Record<string, string>;
  faultDomain?: { region: string; zone: string };
  /** Unreserved resources in the latest offer. */
  unreserved: Amount;
  firstSeen: number;
  lastSeen: number;
  /** Set while Mesos reports the agent lost or unreachable. */
  lostSince?: number;
}

export interface AgentRegistryEvents {
  /** A new agent, or a known one whose facts (attributes, address, domain) changed. */
  changed: [agent: AgentRecord, isNew: boolean];
  lost: [agent: AgentRecord];
  back: [agent: AgentRecord];
}

const KEY = "agents";

export class AgentRegistry extends EventEmitter<AgentRegistryEvents> {
  private readonly agents = new Map<string, AgentRecord>();
  private readonly store: StateStore;
  private readonly now: () => number;
  private readonly writer: LatestWriter;
  /** The last write failed: what memory says is not (all) durable yet. */
  private unsaved = false;

  constructor(store: StateStore, now: () => number = Date.now) {
    super();
    this.store = store;
    this.now = now;
    this.writer = new LatestWriter(store, KEY, () => [...this.agents.values()]);
  }

  async load(): Promise<void> {
    const saved = (await this.store.get<AgentRecord[]>(KEY)) ?? [];
    for (const a of saved) this.agents.set(a.agentId, a);
  }

  /**
   * Writes one at a time, each of the latest snapshot, so the last one always wins; the
   * agents learned from one burst of offers share one write.
   */
  private async save(): Promise<void> {
    try {
      await this.writer.save();
      this.unsaved = false;
    } catch (err) {
      this.unsaved = true;
      throw err;
    }
  }

  get(agentId: string): AgentRecord | undefined {
    return this.agents.get(agentId);
  }

  all(): AgentRecord[] {
    return [...this.agents.values()].sort(
      (a, b) => a.hostname.localeCompare(b.hostname) || a.agentId.localeCompare(b.agentId),
    );
  }

  /** Agents not currently lost. */
  active(): AgentRecord[] {
    return this.all().filter((a) => a.lostSince === undefined);
  }

  /** Learns from an offer; persists and announces what changed. */
  async observe(offer: Offer): Promise<void> {
    const now = this.now();
    const id = offer.agent_id.value;
    const prev = this.agents.get(id);
    const domain = offer.domain?.fault_domain;
    const next: AgentRecord = {
      agentId: id,
      hostname: offer.hostname,
      ip: offerAddress(offer),
      attributes: attributesAsText(offer.attributes),
      ...(domain ? { faultDomain: { region: domain.region.name, zone: domain.zone.name } } : {}),
      unreserved: amountOf(offer.resources ?? [], isUnreserved),
      firstSeen: prev?.firstSeen ?? now,
      lastSeen: now,
    };
    this.agents.set(id, next);
    const factsChanged =
      !prev ||
      prev.hostname !== next.hostname ||
      prev.ip !== next.ip ||
      JSON.stringify(prev.attributes) !== JSON.stringify(next.attributes) ||
      JSON.stringify(prev.faultDomain) !== JSON.stringify(next.faultDomain);
    if (factsChanged || prev?.lostSince !== undefined) await this.save();
    if (prev?.lostSince !== undefined) this.emit("back", next);
    if (factsChanged) this.emit("changed", next, !prev);
  }

  /**
   * Mesos says the agent is gone or unreachable (FAILURE without executor, TASK_UNREACHABLE...).
   * Resolves once that is durable: told again after a failed write, it writes again.
   */
  async markLost(agentId: string): Promise<void> {
    const a = this.agents.get(agentId);
    if (!a) return;
    if (a.lostSince !== undefined) {
      if (this.unsaved) await this.save();
      return;
    }
    a.lostSince = this.now();
    await this.save();
    this.emit("lost", a);
  }
}
