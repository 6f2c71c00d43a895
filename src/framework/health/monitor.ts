// Puts the health of the cluster together: what the platform's checks find at each
// observation, and what the framework itself knows (agents that are lost). Keeps the active
// conditions with their start, emits each change once, and gives one report for every
// reader (/v1/health, /health, the summary, metrics, the CLI and the demo).
import { EventEmitter } from "node:events";
import { healthStatus } from "./status.js";
import { ConditionTracker } from "./tracker.js";
import type { Condition, ConditionChange, ConditionFinding, HealthReport } from "./types.js";

/** The condition types the framework itself raises (platforms add their own). */
export const FRAMEWORK_CONDITION_TYPES = ["AgentLost"] as const;

/** What a platform offers for health (its observer). */
export interface PlatformHealth {
  /** Findings of the latest observation. */
  readonly findings: ConditionFinding[];
  /** Why the latest observation failed, if it did. */
  readonly error: string | undefined;
  /** Whether an observation has succeeded yet. */
  observed(): boolean;
  /** Something changed: observe again soon. */
  observeSoon(): void;
  on(event: "observed", listener: () => void): unknown;
  off(event: "observed", listener: () => void): unknown;
}

export interface AgentsForHealth {
  all(): { agentId: string; hostname: string; lostSince?: number | undefined }[];
  on(event: "lost" | "back", listener: () => void): unknown;
  off(event: "lost" | "back", listener: () => void): unknown;
}

export interface HealthMonitorOptions {
  platform?: PlatformHealth;
  agents: AgentsForHealth;
  /** Plans still have work to do / none exists yet. */
  deploying(): boolean;
  noPlans(): boolean;
  now?: () => number;
}

export interface HealthMonitorEvents {
  change: [changes: ConditionChange[]];
}

export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private readonly opts: HealthMonitorOptions;
  private readonly tracker: ConditionTracker;
  private readonly detach: (() => void)[] = [];

  constructor(opts: HealthMonitorOptions) {
    super();
    this.opts = opts;
    this.tracker = new ConditionTracker(opts.now ?? Date.now);
  }

  start(): void {
    const onObserved = () => this.apply("platform", this.opts.platform!.findings);
    const onAgents = () => this.apply("agents", this.agentFindings());
    if (this.opts.platform) {
      this.opts.platform.on("observed", onObserved);
      this.detach.push(() => this.opts.platform!.off("observed", onObserved));
    }
    for (const e of ["lost", "back"] as const) {
      this.opts.agents.on(e, onAgents);
      this.detach.push(() => this.opts.agents.off(e, onAgents));
    }
    onAgents();
    if (this.opts.platform?.observed()) onObserved();
  }

  stop(): void {
    for (const d of this.detach.splice(0)) d();
  }

  conditions(): Condition[] {
    return this.tracker.active();
  }

  report(): HealthReport {
    const conditions = this.conditions();
    return {
      status: healthStatus({
        conditions,
        observed: this.opts.platform ? this.opts.platform.observed() : true,
        deploying: this.opts.deploying(),
        noPlans: this.opts.noPlans(),
      }),
      conditions,
    };
  }

  private agentFindings(): ConditionFinding[] {
    return this.opts.agents
      .all()
      .filter((a) => a.lostSince !== undefined)
      .map((a) => ({
        type: "AgentLost",
        severity: "warning" as const,
        object: `agent/${a.hostname}`,
        message: `agent ${a.hostname} (${a.agentId}) is lost`,
      }));
  }

  private apply(source: string, findings: ConditionFinding[]): void {
    const changes = this.tracker.update(source, findings);
    if (changes.length) this.emit("change", changes);
  }
}
