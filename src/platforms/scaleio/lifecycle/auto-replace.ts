// Automatic MDM replacement (`--mdm-replace-after`, off by default): an agent holding an MDM
// member that has been lost that long is replaced as an operator's request would be (Rook
// replaces a lost mon after 10 minutes). A member whose agent comes back in time is kept. A
// refusal (no quorum, no eligible agent, another replacement under way) is told once and
// asked again later, since each of these can pass.
import type { AgentRecord, AgentRegistry } from "../../../framework/agents.js";
import type { PlatformContext } from "../../../framework/scheduler.js";
import type { MesosLogger } from "../../../mesos/logger.js";
import type { MdmMember } from "../topology/mdm-placement.js";
import { ReplaceError, type NodeReplacer } from "./replace.js";

export interface AutoReplaceOptions {
  afterMs: number;
  agents: AgentRegistry;
  placement(): MdmMember[] | undefined;
  replacer: Pick<NodeReplacer, "request" | "busy" | "current">;
  logger: MesosLogger;
  notify?: PlatformContext["notify"];
  /** After a refusal, when to ask again (default: a tenth of afterMs, 5 s to 60 s). */
  retryMs?: number;
  now?: () => number;
}

export class AutoMdmReplace {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly told = new Map<string, string>();
  private stopped = false;
  private readonly onLost = (a: AgentRecord) => this.schedule(a);
  private readonly onBack = (a: AgentRecord) => this.cancel(a.agentId);

  constructor(private readonly opts: AutoReplaceOptions) {}

  start(): void {
    this.opts.agents.on("lost", this.onLost);
    this.opts.agents.on("back", this.onBack);
    for (const a of this.opts.agents.all()) if (a.lostSince !== undefined) this.schedule(a);
  }

  stop(): void {
    this.stopped = true;
    this.opts.agents.off("lost", this.onLost);
    this.opts.agents.off("back", this.onBack);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private isMember(agentId: string): boolean {
    return (this.opts.placement() ?? []).some((m) => m.agentId === agentId);
  }

  private schedule(a: AgentRecord, delayMs?: number): void {
    if (this.stopped || a.lostSince === undefined || !this.isMember(a.agentId)) return;
    this.cancel(a.agentId);
    const due = delayMs ?? Math.max(0, a.lostSince + this.opts.afterMs - this.now());
    const t = setTimeout(() => {
      this.timers.delete(a.agentId);
      void this.fire(a.agentId);
    }, due);
    t.unref();
    this.timers.set(a.agentId, t);
  }

  private cancel(agentId: string): void {
    const t = this.timers.get(agentId);
    if (t) clearTimeout(t);
    this.timers.delete(agentId);
    this.told.delete(agentId);
  }

  private async fire(agentId: string): Promise<void> {
    const a = this.opts.agents.get(agentId);
    if (this.stopped || !a || a.lostSince === undefined || !this.isMember(agentId)) return;
    const r = this.opts.replacer;
    // Already being replaced (asked by an operator, or by us before a restart).
    if (r.current?.agentId === agentId && r.busy()) return;
    const minutes = Math.round((this.now() - a.lostSince) / 6000) / 10;
    try {
      await r.request(agentId, { auto: true });
      this.opts.logger.info(
        { agentId, lostMinutes: minutes },
        "MDM agent lost too long: replacement planned",
      );
    } catch (err) {
      const why = (err as Error).message;
      if (this.told.get(agentId) !== why) {
        this.told.set(agentId, why);
        const msg = `automatic replacement of MDM agent ${a.hostname} (lost ${minutes} min) not possible yet: ${why}`;
        if (this.opts.notify) this.opts.notify("warn", msg);
        else this.opts.logger.warn({ agentId }, msg);
      }
      if (!(err instanceof ReplaceError))
        this.opts.logger.error({ agentId, err: why }, "auto replace");
      const retry =
        this.opts.retryMs ?? Math.min(60_000, Math.max(5_000, Math.round(this.opts.afterMs / 10)));
      this.schedule(a, retry);
    }
  }
}
