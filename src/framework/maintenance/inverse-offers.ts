// Mesos maintenance, the framework's side: an inverse offer asks for an agent back for a
// maintenance window. The platform decides (it knows what the node holds); we answer Mesos
// with its decision. "Not yet" is a decline with a short refuse filter, so Mesos asks again
// and the answer follows the platform's progress (level-based: each question gets the
// current answer, no promise is kept between them). The window is over when the agent is
// offered again without unavailability (Mesos sends no "maintenance over" event).
import type { InverseOffer, Offer } from "../../mesos/types/common.js";
import type { PipelineStage } from "../../mesos/scheduler/pipeline.js";
import type { MesosLogger } from "../../mesos/logger.js";
import type { StateStore } from "../../store/store.js";
import { toBigInt } from "../../mesos/json.js";

/** When Mesos wants the agent, in epoch milliseconds; no end: open-ended. */
export interface MaintenanceWindow {
  startMs: number;
  endMs?: number;
}

/** A node's maintenance as operators see it (on `/v1/nodes`). */
export interface NodeMaintenanceView {
  state: "entering" | "in" | "exiting";
  /** Who asked: `mesos` (a maintenance window) or `operator`. */
  by: string;
  since: number;
}

/** The platform's answer: the node may go now, or why not yet. */
export type MaintenanceAnswer = "accept" | { decline: string };

export interface MaintenanceParty {
  /** An inverse offer for the agent: may it go now? (Asked again while the answer is no.) */
  onInverseOffer(agentId: string, window: MaintenanceWindow): Promise<MaintenanceAnswer>;
  /** The agent's maintenance is over (offered again without unavailability). */
  onMaintenanceOver(agentId: string): Promise<void>;
}

export interface InverseOfferResponderOptions {
  party: MaintenanceParty;
  client: {
    acceptInverseOffers(ids: { value: string }[], filters?: { refuse_seconds?: number }): unknown;
    declineInverseOffers(ids: { value: string }[], filters?: { refuse_seconds?: number }): unknown;
  };
  store: StateStore;
  logger: MesosLogger;
  /** Where each decision is told to operators (the event stream). */
  notify(level: "info" | "warn", message: string): void;
  /** A hostname for the messages. */
  hostnameOf(agentId: string): string | undefined;
  /** Asks Mesos for offers (a suppressed framework gets none, and offers end a window). */
  discover(): void;
  /** How soon Mesos asks again after "not yet" (default 5 s). */
  refuseSeconds?: number;
}

const KEY = "framework/maintenance-draining";

/** Where an agent runs, as Mesos names machines (hostname lower-cased). */
interface Machine {
  hostname?: string;
  ip?: string;
}

export function windowOf(io: Pick<InverseOffer, "unavailability">): MaintenanceWindow {
  const start = Number(toBigInt(io.unavailability.start.nanoseconds) / 1_000_000n);
  const d = io.unavailability.duration?.nanoseconds;
  return d === undefined
    ? { startMs: start }
    : { startMs: start, endMs: start + Number(toBigInt(d) / 1_000_000n) };
}

export class InverseOfferResponder {
  private readonly opts: InverseOfferResponderOptions;
  /**
   * Agents Mesos asked for, with their machine, until offered again without unavailability
   * (persisted). A machine taken down usually comes back as a new agent (a new id): an
   * offer from its machine ends the old agent's window too.
   */
  private draining = new Map<string, Machine>();
  /** The last answer told per agent: a decision is an event when it changes. */
  private readonly told = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: InverseOfferResponderOptions) {
    this.opts = opts;
  }

  async load(): Promise<void> {
    const saved = (await this.opts.store.get<(string | [string, Machine])[]>(KEY)) ?? [];
    // Ids alone: written before machines were kept.
    this.draining = new Map(saved.map((e) => (typeof e === "string" ? [e, {}] : e)));
    this.schedule();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Agents whose maintenance window has not ended yet, as far as we know. */
  get drainingAgents(): string[] {
    return [...this.draining.keys()];
  }

  stage(): PipelineStage {
    return {
      name: "maintenance",
      on: {
        INVERSE_OFFERS: ({ inverse_offers }) => this.onInverseOffers(inverse_offers ?? []),
        OFFERS: ({ offers }) => this.onOffers(offers ?? []),
      },
    };
  }

  private get refuseSeconds(): number {
    return this.opts.refuseSeconds ?? 5;
  }

  /** One answer per inverse offer; each asked concurrently (they are about different agents). */
  async onInverseOffers(list: InverseOffer[]): Promise<void> {
    await Promise.all(list.map((io) => this.answer(io)));
  }

  private async answer(io: InverseOffer): Promise<void> {
    const agentId = io.agent_id?.value;
    if (!agentId) return;
    if (!this.draining.has(agentId)) {
      const a = io.url?.address;
      this.draining.set(agentId, {
        ...(a?.hostname ? { hostname: a.hostname.toLowerCase() } : {}),
        ...(a?.ip ? { ip: a.ip } : {}),
      });
      await this.save();
      this.schedule();
    }
    const who = this.describe(agentId);
    let answer: MaintenanceAnswer;
    try {
      answer = await this.opts.party.onInverseOffer(agentId, windowOf(io));
    } catch (err) {
      // Undecided is not a yes: Mesos asks again soon.
      answer = { decline: `no decision: ${(err as Error).message}` };
    }
    const filters = { refuse_seconds: this.refuseSeconds };
    if (answer === "accept") {
      await this.opts.client.acceptInverseOffers([io.id], filters);
      this.tell(agentId, "info", `accepted the inverse offer for agent ${who}`);
    } else {
      await this.opts.client.declineInverseOffers([io.id], filters);
      this.tell(agentId, "info", `declined the inverse offer for agent ${who}: ${answer.decline}`);
    }
  }

  /** An agent we were asked for, offered without unavailability: its window is over. */
  async onOffers(offers: Offer[]): Promise<void> {
    const over = new Set<string>();
    for (const o of offers) {
      if (o.unavailability !== undefined) continue;
      const id = o.agent_id.value;
      if (this.draining.has(id)) over.add(id);
      const ip = o.url?.address.ip;
      const host = (o.url?.address.hostname ?? o.hostname).toLowerCase();
      for (const [old, m] of this.draining)
        if (m.ip !== undefined && m.ip === ip && m.hostname === host) over.add(old);
    }
    if (over.size === 0) return;
    for (const id of over) this.draining.delete(id);
    await this.save();
    this.schedule();
    for (const agentId of over) {
      this.told.delete(agentId);
      this.opts.notify(
        "info",
        `maintenance of agent ${this.describe(agentId)} is over (offered without unavailability)`,
      );
      try {
        await this.opts.party.onMaintenanceOver(agentId);
      } catch (err) {
        this.opts.logger.error(
          { agentId, err: (err as Error).message },
          "the end of a maintenance window was not handled",
        );
      }
    }
  }

  private describe(agentId: string): string {
    const host = this.opts.hostnameOf(agentId);
    return host ? `${agentId} (${host})` : agentId;
  }

  private tell(agentId: string, level: "info" | "warn", message: string): void {
    if (this.told.get(agentId) === message) return;
    this.told.set(agentId, message);
    this.opts.notify(level, message);
  }

  private async save(): Promise<void> {
    await this.opts.store.set(KEY, [...this.draining.entries()]);
  }

  /** While a window is open, offers are asked for now and then: they tell when it ends. */
  private schedule(): void {
    if (this.draining.size === 0) return this.stop();
    if (this.timer) return;
    this.timer = setInterval(() => this.opts.discover(), this.refuseSeconds * 1000);
    this.timer.unref();
  }
}
