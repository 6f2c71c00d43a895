// Plans are made of phases made of steps (as in the DC/OS SDK). Definitions are computed
// from desired and observed state and may be recomputed at any time; progress is keyed by
// stable step ids so it survives recomputation and restarts.

export const STEP_STATUSES = ["PENDING", "IN_PROGRESS", "COMPLETE", "ERROR"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Derived status of a phase or plan. WAITING: paused by an operator. */
export type AggregateStatus = "PENDING" | "IN_PROGRESS" | "COMPLETE" | "ERROR" | "WAITING";

export type Strategy = "serial" | "parallel";

export interface StepContext {
  planId: string;
  stepId: string;
  /** Aborted when the engine stops, the step is restarted or force-completed, or times out. */
  signal: AbortSignal;
  /** 1 for the first run, 2 for the first retry... (persisted, so it counts across restarts). */
  attempt: number;
  /** Records a progress message visible in the step's status. */
  progress(message: string): void;
}

export interface StepDefinition {
  /** Stable id, unique within the plan (e.g. `install/agent-3`). */
  id: string;
  name: string;
  /**
   * Does the work. Must be idempotent: it may run again after any crash. What it resolves
   * with, when a string, is the finished step's text ("installed 2 packages"); otherwise
   * a finished step shows no message (its progress messages were about the work under way).
   */
  run(ctx: StepContext): Promise<void | string>;
  /** Steps sharing an asset (e.g. an agent id) never run at the same time, across plans. */
  asset?: string;
  /** A run that takes longer fails with a timeout (then retried). */
  timeoutMs?: number;
  /**
   * Steps of this plan that must be complete before this one starts: a dependency finer
   * than a phase's `dependsOn` (an agent's next step waits for its own previous one, not
   * for every agent's).
   */
  after?: string[];
  /**
   * A digest of the inputs the step acts on (what it would create or change). When it differs
   * from the one the step last ran with, the engine runs the step again: a finished step goes
   * back to pending, a running one is interrupted and started again. None: the step's inputs
   * are not tracked (it runs again only when an operator restarts it).
   */
  fingerprint?: string;
}

export interface PhaseDefinition {
  id: string;
  name: string;
  strategy: Strategy;
  /** With the parallel strategy, at most this many steps run at once. */
  maxParallel?: number;
  /** Phases that must be complete before this one starts. */
  dependsOn?: string[];
  steps: StepDefinition[];
}

export interface PlanDefinition {
  id: string;
  name: string;
  /** Serial: each phase waits for the previous one (besides its own dependsOn). */
  strategy: Strategy;
  phases: PhaseDefinition[];
}

/** Persisted progress of one step. */
export interface StepProgress {
  status: StepStatus;
  attempts: number;
  lastError?: string;
  message?: string;
  startedAt?: number;
  updatedAt: number;
  /** While in ERROR: when the next attempt is due (absent: waits for an operator). */
  retryAt?: number;
  /** Set when an operator force-completed the step. */
  forced?: boolean;
  /** While failing: when the first failure of the current run of failures was. */
  failingSince?: number;
  /**
   * The definition's fingerprint when the step last started (or was force-completed): the
   * inputs its status speaks of.
   */
  fingerprint?: string;
}

/** Persisted progress of one plan. */
export interface PlanProgress {
  id: string;
  paused: boolean;
  pausedPhases: string[];
  /** By step id; a null-prototype object (see stepTable), as step ids come from callers too. */
  steps: Record<string, StepProgress>;
}

/**
 * An empty table of step progress without a prototype: a looked-up id such as `__proto__`
 * or `constructor` then finds nothing instead of Object.prototype or Object.
 */
export function stepTable(
  from?: Record<string, StepProgress> | undefined,
): Record<string, StepProgress> {
  const table = Object.create(null) as Record<string, StepProgress>;
  if (from) for (const [id, p] of Object.entries(from)) table[id] = p;
  return table;
}

/** The progress of a step of this table, only if it is the table's own entry. */
export function stepIn(
  table: Record<string, StepProgress>,
  stepId: string,
): StepProgress | undefined {
  return Object.hasOwn(table, stepId) ? table[stepId] : undefined;
}

export interface StepView extends StepProgress {
  id: string;
  name: string;
  asset?: string;
  after?: string[];
}

export interface PhaseView {
  id: string;
  name: string;
  strategy: Strategy;
  dependsOn: string[];
  status: AggregateStatus;
  paused: boolean;
  steps: StepView[];
}

export interface PlanView {
  id: string;
  name: string;
  strategy: Strategy;
  status: AggregateStatus;
  paused: boolean;
  phases: PhaseView[];
  /** Steps complete out of all steps. */
  progress: { complete: number; total: number };
}

/** A step failure that retrying cannot fix; the step waits for an operator. */
export class PermanentStepError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentStepError";
  }
}

export class PlanError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "PlanError";
    this.code = code;
  }
}
