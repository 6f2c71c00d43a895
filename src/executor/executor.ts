// The node executor: for each LAUNCH, decode the node-step spec, run the step (TASK_RUNNING
// with its progress once it has run for 2 s: a step that ends sooner sends only its
// terminal update, each update being a round trip through the agent, the master and the
// scheduler's acknowledgement), and end with exactly one terminal update:
// TASK_FINISHED with the encoded result, TASK_FAILED with the error (permanent when
// retrying cannot help), or TASK_KILLED after a KILL or SHUTDOWN aborted it.
// It holds no cluster-wide knowledge: everything it needs is in the task.
import type { ExecutorClient } from "../mesos/executor/index.js";
import type { TaskInfo } from "../mesos/types/common.js";
import {
  decodeSpec,
  encodeResult,
  type NodeTaskResult,
  type NodeTaskSpec,
} from "../framework/node-task/protocol.js";
import type { NodeSecrets } from "../framework/node-task/handler.js";
import type { HostProfile } from "../host/profile.js";
import type { Logger } from "./logger.js";
import { runStep, type HandlerRegistry } from "./run-step.js";

export interface NodeExecutorOptions {
  client: ExecutorClient;
  registry: HandlerRegistry;
  /** The host profile, or the reason it could not be built (then every step fails). */
  host: HostProfile | Error;
  /** Trades a step's token; `taskId` is the task's, which the scheduler binds tokens to. */
  fetchSecrets: (token: string, signal: AbortSignal, taskId: string) => Promise<NodeSecrets>;
  log: Logger;
  /** A step still running after this long reports TASK_RUNNING (default 2 s). */
  runningAfterMs?: number;
  /** Least time between two progress updates of a step (default 1 s). */
  progressEveryMs?: number;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

interface ProgressState {
  held?: string;
  sentAt?: number;
  timer?: NodeJS.Timeout;
}

export class NodeExecutor {
  private readonly running = new Map<string, Running>();
  /**
   * Per running task (see execute()): the newest progress line not sent yet, when the last
   * progress update went out, and the timer waiting to send the next.
   */
  private readonly progressOf = new Map<string, ProgressState>();
  private exitResolve!: (code: number) => void;
  /** Resolves with the process exit code once the executor is finished. */
  readonly exited = new Promise<number>((r) => (this.exitResolve = r));

  constructor(private readonly o: NodeExecutorOptions) {
    const { client, log } = o;
    client.on("subscribed", (info, meta) =>
      log.info(
        { agent: info.agent_info?.hostname, resubscribed: meta.resubscribed },
        "subscribed to the agent",
      ),
    );
    client.on("launch", (task) => this.launch(task));
    client.on("acknowledged", ({ taskId }) => this.sendHeldProgress(taskId.value));
    client.on("launchGroup", (tasks) => tasks.forEach((t) => this.launch(t)));
    client.on("kill", ({ taskId }) => this.kill(taskId.value, "killed by the scheduler"));
    client.on("shutdown", () => void this.shutdown());
    client.on("disconnected", (err) => {
      log.error({ err: err.message }, "lost the agent for good; stopping");
      for (const r of this.running.values()) r.controller.abort(new Error("agent lost"));
      this.exitResolve(1);
    });
    client.on("warning", (err) => log.warn({ err: err.message }, "executor client warning"));
    client.on("invalidEvent", (err) =>
      log.error(
        { event: err.eventType, problem: err.problem },
        "invalid event from the agent skipped",
      ),
    );
    client.on("reconnecting", (info) =>
      log.warn({ attempt: info.attempt, delayMs: info.delayMs }, "reconnecting to the agent"),
    );
  }

  start(): this {
    this.o.client.start();
    return this;
  }

  private launch(task: TaskInfo): void {
    const id = task.task_id.value;
    const controller = new AbortController();
    const done = this.execute(task, controller).catch((err: unknown) => {
      this.o.log.error({ task: id, err: (err as Error).message }, "could not report the task");
    });
    this.running.set(id, { controller, done });
    void done.finally(() => this.running.delete(id));
  }

  private async execute(task: TaskInfo, controller: AbortController): Promise<void> {
    const { client, log } = this.o;
    const task_id = task.task_id;
    let spec: NodeTaskSpec;
    try {
      spec = decodeSpec(task.data);
    } catch (err) {
      const error = (err as Error).message;
      log.warn({ task: task_id.value, error }, "refusing a task that is not a node step");
      await this.fail(task, { ok: false, error, permanent: true });
      return;
    }
    const fields = {
      task: task_id.value,
      step: spec.stepId,
      kind: spec.kind,
      attempt: spec.attempt,
    };
    log.info(fields, "step starting");
    if (this.o.host instanceof Error) {
      await this.fail(task, {
        ok: false,
        error: `host profile: ${this.o.host.message}`,
        permanent: true,
      });
      return;
    }
    // Every update is a round trip through the agent, the master and the scheduler (which
    // records it), and the agent forwards a task's updates one at a time, each after the
    // previous one was acknowledged. So a step reports TASK_RUNNING only once it has run for
    // two seconds, then at most one progress line a second and none while one is in flight:
    // the newest waiting line is kept, and dropped once the step ends (the terminal update
    // never waits behind stale progress). A busy cluster is not flooded with progress.
    const id = task_id.value;
    const state: ProgressState = { held: `running ${spec.kind}` };
    this.progressOf.set(id, state);
    let announced = false;
    const announce = setTimeout(() => {
      announced = true;
      if (!controller.signal.aborted) this.sendHeldProgress(id);
    }, this.o.runningAfterMs ?? 2000);
    const progress = (message: string) => {
      if (controller.signal.aborted) return;
      log.info({ ...fields, progress: message }, "step progress");
      state.held = message;
      if (announced) this.sendHeldProgress(id);
    };
    const started = Date.now();
    const result = await runStep(this.o.registry, spec, {
      host: this.o.host,
      fetchSecrets: (token, signal) => this.o.fetchSecrets(token, signal, id),
      progress,
      signal: controller.signal,
    }).finally(() => clearTimeout(announce));
    const ms = Date.now() - started;
    clearTimeout(state.timer);
    this.progressOf.delete(id);
    if (controller.signal.aborted) {
      const why = (controller.signal.reason as Error | undefined)?.message ?? "killed";
      log.info({ ...fields, ms, why }, "step killed");
      await client.update({ task_id, state: "TASK_KILLED", message: why });
    } else if (result.ok) {
      log.info({ ...fields, ms }, "step finished");
      await client.update({
        task_id,
        state: "TASK_FINISHED",
        message: `${spec.kind} done`,
        data: encodeResult(result),
      });
    } else {
      log.warn({ ...fields, ms, error: result.error, permanent: result.permanent }, "step failed");
      await this.fail(task, result);
    }
  }

  /**
   * Sends the task's held progress line unless an update of the task awaits its ACK (the
   * ACK calls this again) or the last one went out less than progressEveryMs ago (a timer
   * does).
   */
  private sendHeldProgress(taskId: string): void {
    const state = this.progressOf.get(taskId);
    const message = state?.held;
    if (!state || message === undefined || state.timer) return;
    const { client, log } = this.o;
    if (client.unacknowledgedUpdates().some((u) => u.task_id.value === taskId)) return;
    const wait = (state.sentAt ?? -Infinity) + (this.o.progressEveryMs ?? 1000);
    if (wait > Date.now()) {
      state.timer = setTimeout(() => {
        delete state.timer;
        this.sendHeldProgress(taskId);
      }, wait - Date.now());
      return;
    }
    delete state.held;
    state.sentAt = Date.now();
    client
      .update({ task_id: { value: taskId }, state: "TASK_RUNNING", message: message.slice(0, 500) })
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, "progress not sent"));
  }

  private async fail(task: TaskInfo, result: Extract<NodeTaskResult, { ok: false }>) {
    await this.o.client.update({
      task_id: task.task_id,
      state: "TASK_FAILED",
      message: result.error.slice(0, 2000),
      data: encodeResult(result),
    });
  }

  private kill(taskId: string, why: string): void {
    const r = this.running.get(taskId);
    if (r) {
      this.o.log.info({ task: taskId }, "kill requested");
      r.controller.abort(new Error(why));
      return;
    }
    // Not running here (already finished, or never launched): report it killed if Mesos lets us.
    this.o.client
      .update({ task_id: { value: taskId }, state: "TASK_KILLED", message: why })
      .catch((err: Error) =>
        this.o.log.warn({ task: taskId, err: err.message }, "TASK_KILLED not sent"),
      );
  }

  private async shutdown(): Promise<void> {
    const { client, log } = this.o;
    log.info({ tasks: this.running.size }, "shutdown requested");
    const summary = await client.shutdownTasks(async (task, signal) => {
      const r = this.running.get(task.task_id.value);
      if (!r) return;
      r.controller.abort(new Error("executor shutdown"));
      await Promise.race([
        r.done,
        new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
      ]);
    });
    log.info(summary, "shutdown complete");
    await client.stop();
    this.exitResolve(0);
  }
}
