// One ordered pipeline for the events of a scheduler's Mesos subscription (as in mesos-go,
// the client decodes and checks events, calls go out through the client, and handling is
// the caller's: here, an ordered list of stages). Each event runs through the stages that
// handle its type, in order, each awaited: an update is acknowledged by a stage after the
// ones before it have persisted its outcome (Mesos' at-least-once contract). A stage that
// throws or rejects ends that event's run; it is logged with the event type and the stage,
// and nothing escapes: push() never throws and no promise of it rejects.
//
// Ordering without a global lock: events start in arrival order (a stage's synchronous part
// sees them as Mesos sent them), and an event waits only for what it must: an UPDATE for
// the earlier updates of the same task (an unacknowledged update is resent, and its copies
// must not overtake each other), and every event for a SUBSCRIBED before it (stages reset
// their view of offers and tasks there). Offers of one batch and updates of different tasks
// are therefore handled side by side, as a large cluster needs.
import { silentLogger, type MesosLogger } from "../logger.js";
import { bodyKey, type SchedulerEvent, type SchedulerEventType } from "../types/scheduler.js";
import type { TaskStatus } from "../types/common.js";
import type { BodyOf } from "./events.js";

export type StageHandlers = {
  [T in SchedulerEventType]?: (body: BodyOf<T>) => void | Promise<void>;
};

export interface PipelineStage {
  /** For log lines: which part of the framework failed. */
  readonly name: string;
  readonly on: StageHandlers;
}

export interface SchedulerEventPipelineOptions {
  stages: readonly PipelineStage[];
  logger?: MesosLogger;
  /** Called (after the log line) when a stage fails; the event's later stages are skipped. */
  onStageError?: (error: unknown, event: SchedulerEvent, stage: string) => void;
}

type Step = { stage: string; handle: (body: unknown) => void | Promise<void> };

export class SchedulerEventPipeline {
  private readonly steps = new Map<string, Step[]>();
  private readonly log: MesosLogger;
  private readonly onStageError: SchedulerEventPipelineOptions["onStageError"];
  /** The latest SUBSCRIBED still running: later events wait for it. */
  private barrier: Promise<void> | undefined;
  /** The latest update of each task still running, by task id. */
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private failed = 0;

  constructor(opts: SchedulerEventPipelineOptions) {
    this.log = opts.logger ?? silentLogger;
    this.onStageError = opts.onStageError;
    for (const stage of opts.stages) {
      for (const [type, handle] of Object.entries(stage.on)) {
        if (!handle) continue;
        const list = this.steps.get(type) ?? [];
        list.push({ stage: stage.name, handle: handle as Step["handle"] });
        this.steps.set(type, list);
      }
    }
  }

  /** Stage failures so far. */
  get failures(): number {
    return this.failed;
  }

  /** Hands an event to the stages; returns at once (the first stage may have begun). */
  push(event: SchedulerEvent): void {
    const steps = this.steps.get(event.type);
    if (!steps) return;
    const lane = event.type === "UPDATE" ? event.update.status.task_id.value : undefined;
    const before = lane !== undefined ? this.lanes.get(lane) : undefined;
    const waits = [this.barrier, before].filter((p): p is Promise<void> => p !== undefined);
    const run =
      waits.length === 0
        ? this.run(event, steps)
        : Promise.all(waits).then(() => this.run(event, steps));
    if (event.type === "SUBSCRIBED") this.barrier = run;
    if (lane !== undefined) this.lanes.set(lane, run);
    this.running.add(run);
    const done = () => {
      this.running.delete(run);
      if (this.barrier === run) this.barrier = undefined;
      if (lane !== undefined && this.lanes.get(lane) === run) this.lanes.delete(lane);
    };
    // run() never rejects; both branches only tidy up.
    run.then(done, done);
  }

  /** Resolves once every event pushed so far has been through its stages. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async run(event: SchedulerEvent, steps: Step[]): Promise<void> {
    const body =
      event.type === "HEARTBEAT"
        ? undefined
        : (event as unknown as Record<string, unknown>)[bodyKey(event.type)];
    for (const step of steps) {
      try {
        await step.handle(body);
      } catch (err) {
        this.failed += 1;
        this.log.error(
          {
            event: event.type,
            stage: step.stage,
            ...(event.type === "UPDATE"
              ? { task: event.update.status.task_id.value, state: event.update.status.state }
              : {}),
            err: describe(err),
          },
          "mesos event handling failed; its later stages are skipped",
        );
        try {
          this.onStageError?.(err, event, step.stage);
        } catch {
          // An observer's mistake must not undo the containment above.
        }
        return;
      }
    }
  }
}

/** What the acknowledgement stage needs of a scheduler client. */
export interface Acknowledger {
  acknowledgeIfNeeded(status: TaskStatus): Promise<boolean>;
}

/**
 * The last stage for UPDATE: acknowledges the update (when it carries a uuid) once the
 * stages before it have handled it. A failed acknowledgement is only logged: Mesos resends
 * the update, and the stages see it again.
 */
export function acknowledgeStage(client: Acknowledger, logger?: MesosLogger): PipelineStage {
  const log = logger ?? silentLogger;
  return {
    name: "acknowledge",
    on: {
      UPDATE: async ({ status }) => {
        try {
          await client.acknowledgeIfNeeded(status);
        } catch (err) {
          log.warn(
            { err: describe(err), task: status.task_id.value, state: status.state },
            "acknowledge failed; Mesos will resend the update",
          );
        }
      },
    },
  };
}

function describe(err: unknown): unknown {
  if (err instanceof Error) {
    return { type: err.name, message: err.message, code: (err as { code?: string }).code };
  }
  return String(err);
}
