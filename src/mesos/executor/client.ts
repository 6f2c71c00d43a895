// Client of the Mesos v1 Executor HTTP API (reference section 6): subscribes to the agent,
// decodes the RecordIO event stream, sends status updates with the bookkeeping Mesos
// expects, and survives agent restarts when the framework checkpoints.
//
// Shape: a typed EventEmitter (ExecutorClientEvents). Events are facts the caller acts on
// (launch, kill, shutdown...); the client never runs tasks itself. The one fatal event is
// 'disconnected': the caller must then stop its tasks and exit.
import { EventEmitter } from "node:events";
import { Backoff, delay } from "../backoff.js";
import { fromBase64, newStatusUuid, toBase64 } from "../bytes.js";
import {
  ExecutorDisconnectedError,
  ExecutorRecoveryTimeoutError,
  ExecutorUpdateRefusedError,
  InvalidEventError,
  MesosConnectionError,
  MesosError,
  MesosHttpError,
  MesosProtocolError,
  MesosTimeoutError,
  NotSubscribedError,
  SubscriptionRefusedError,
} from "../errors.js";
import { HttpTransport, type HttpStream, type TlsOptions } from "../http.js";
import { decodeMessage, stringifyMesosJson } from "../json.js";
import { readRecords } from "../recordio.js";
import type {
  Base64,
  KillPolicy,
  TaskGroupInfo,
  TaskID,
  TaskInfo,
  TaskStatus,
} from "../types/common.js";
import type { ExecutorCall, ExecutorSubscribedEvent } from "../types/executor.js";
import type { ExecutorEnvironment } from "./environment.js";
import { durationInfoMs, toExecutorEvent, type DecodedExecutorEvent } from "./events.js";
import { ExecutorLedger, type UpdateEntry } from "./ledger.js";

/** How long the agent waits for the first SUBSCRIBE (--executor_registration_timeout). */
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 60_000;

export interface ExecutorClientOptions {
  env: ExecutorEnvironment;
  /** Injected transport (then not closed by stop()); by default one is built from env. */
  transport?: HttpTransport;
  tls?: TlsOptions;
  /** Timeout of each non-streaming call (default 75 s, see HttpTransport). */
  callTimeoutMs?: number;
  /** Window for the very first subscription, retried with backoff (default 60 s). */
  registrationTimeoutMs?: number;
  /** First backoff pause (default 250 ms, never above MESOS_SUBSCRIPTION_BACKOFF_MAX). */
  backoffInitialMs?: number;
  /** Randomness for backoff jitter, in [0, 1); injectable for tests. */
  random?: () => number;
  /** RecordIO record size cap (default 64 MiB). */
  maxRecordBytes?: number;
}

/** A status update as the caller gives it; the client fills uuid, source, executor_id. */
export type ExecutorStatusInput = Omit<
  TaskStatus,
  "uuid" | "source" | "executor_id" | "timestamp" | "data"
> & { data?: Base64 | Uint8Array; timestamp?: number };

export interface KillRequest {
  taskId: TaskID;
  /** The launched task, when this executor knows it. */
  task: TaskInfo | undefined;
  /** The KILL's kill_policy, else the task's own. */
  killPolicy: KillPolicy | undefined;
  /** Grace period between graceful and forced kill, in ms, when a kill policy sets one. */
  gracePeriodMs: number | undefined;
  /** True for a repeated KILL of the same task (a shorter grace period means escalate). */
  repeated: boolean;
}

export interface ShutdownRequest {
  /** MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD in ms. */
  gracePeriodMs: number;
  /** Epoch ms by which every task must be killed and reported and the process gone. */
  deadline: number;
  /** Aborts at the deadline. */
  signal: AbortSignal;
}

export interface ReconnectInfo {
  error: unknown;
  attempt: number;
  /** Pause before the next SUBSCRIBE attempt (0 = at once). */
  delayMs: number;
  /** Epoch ms after which the client gives up. */
  deadline: number;
}

export interface ShutdownSummary {
  killed: string[];
  failed: string[];
  /** Updates still not ACKNOWLEDGED when the helper returned. */
  unacknowledged: number;
}

/** Fatal errors reported by 'disconnected'. */
export type ExecutorFatalError =
  ExecutorDisconnectedError | ExecutorRecoveryTimeoutError | MesosHttpError;

export interface ExecutorClientEvents {
  /** Each SUBSCRIBED; `resubscribed` after an agent restart. */
  subscribed: [info: ExecutorSubscribedEvent, meta: { resubscribed: boolean }];
  launch: [task: TaskInfo];
  launchGroup: [tasks: TaskInfo[], group: TaskGroupInfo];
  kill: [kill: KillRequest];
  acknowledged: [ack: { taskId: TaskID; uuid: string; status: TaskStatus | undefined }];
  message: [data: Buffer];
  shutdown: [shutdown: ShutdownRequest];
  /** ERROR event from the agent; the client then drops the stream and resubscribes. */
  agentError: [message: string];
  heartbeat: [];
  /** An event type this client does not know; for logging only. */
  unknown: [type: string, event: Record<string, unknown>];
  /**
   * A known event lacking (or mistyping) a field the executor reads: skipped, the stream
   * carries on. For logging (the error names the event type and the field).
   */
  invalidEvent: [error: InvalidEventError];
  /** Stream lost or a SUBSCRIBE attempt failed; another attempt follows. */
  reconnecting: [info: ReconnectInfo];
  /** Fatal: the client has stopped. Kill all tasks and exit. */
  disconnected: [error: ExecutorFatalError];
  /** Non-fatal problems (a bad update answer, a listener that threw, a refused launch). */
  warning: [error: Error];
}

export type ExecutorClientState = "idle" | "subscribing" | "subscribed" | "stopped";

type StreamOutcome =
  | { kind: "lost"; error: unknown; subscribedAt: number }
  | { kind: "retry"; error: unknown }
  | { kind: "fatal"; error: ExecutorFatalError }
  | { kind: "stopped" };

export class ExecutorClient extends EventEmitter<ExecutorClientEvents> {
  readonly env: ExecutorEnvironment;
  private readonly transport: HttpTransport;
  private readonly ownsTransport: boolean;
  private readonly opts: ExecutorClientOptions;
  private readonly ledger = new ExecutorLedger();
  private readonly stopController = new AbortController();
  private run: Promise<void> | undefined;
  private current: HttpStream | undefined;
  private connected = false;
  private everSubscribed = false;
  private stopped = false;
  private fatal: ExecutorFatalError | undefined;
  private subscribedInfo: ExecutorSubscribedEvent | undefined;
  private killingAllowed = false;
  private shutdown: ShutdownRequest | undefined;
  private readonly killsSeen = new Set<string>();
  private sendChain: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];

  constructor(opts: ExecutorClientOptions) {
    super();
    this.opts = opts;
    this.env = opts.env;
    this.ownsTransport = opts.transport === undefined;
    this.transport =
      opts.transport ??
      new HttpTransport({
        ...(opts.env.authenticationToken !== undefined
          ? { bearerToken: opts.env.authenticationToken }
          : {}),
        ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
        ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
      });
  }

  // ---- lifecycle -------------------------------------------------------------------

  /** Subscribes at once and keeps the subscription per MESOS_CHECKPOINT. Idempotent. */
  start(): this {
    if (this.stopped) throw new ExecutorDisconnectedError("executor client was stopped");
    this.run ??= this.loop();
    return this;
  }

  /** Closes the stream, stops retrying, and releases the transport it created. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.connected = false;
      this.stopController.abort(new ExecutorDisconnectedError("executor client stopped"));
      this.current?.close();
      this.wake();
    }
    await this.run;
    if (this.ownsTransport) await this.transport.close();
  }

  get state(): ExecutorClientState {
    if (this.stopped) return "stopped";
    if (this.connected) return "subscribed";
    return this.run ? "subscribing" : "idle";
  }

  /** The latest SUBSCRIBED payload (executor_info, framework_info, agent_info...). */
  get subscription(): ExecutorSubscribedEvent | undefined {
    return this.subscribedInfo;
  }

  /** Epoch ms by which the executor must be gone, once SHUTDOWN arrived (or shutdownTasks ran). */
  get shutdownDeadline(): number | undefined {
    return this.shutdown?.deadline;
  }

  get shuttingDown(): boolean {
    return this.shutdown !== undefined;
  }

  unacknowledgedUpdates(): TaskStatus[] {
    return this.ledger.unacknowledgedUpdates();
  }

  unacknowledgedTasks(): TaskInfo[] {
    return this.ledger.unacknowledgedTasks();
  }

  /** Launched tasks that have not had their terminal update yet. */
  activeTasks(): TaskInfo[] {
    return this.ledger.activeTasks();
  }

  // ---- calls -----------------------------------------------------------------------

  /**
   * Sends an UPDATE. Fills a fresh 16-byte uuid, `source: SOURCE_EXECUTOR`, executor_id and
   * timestamp. Resolves with the status as sent once the agent accepted it (202) or it was
   * carried by a resubscription; while the agent is away it waits for the resubscription.
   * Rejects with ExecutorUpdateRefusedError for updates Mesos forbids, MesosHttpError for a
   * 4xx answer (the update is then forgotten), or the fatal error if the client stops.
   */
  async update(input: ExecutorStatusInput): Promise<TaskStatus> {
    const taskId = input.task_id?.value;
    const refuse = (reason: ExecutorUpdateRefusedError["reason"], why: string) => {
      throw new ExecutorUpdateRefusedError(reason, taskId, `update of task '${taskId}' ${why}`);
    };
    if (this.stopped) refuse("STOPPED", "refused: the executor client has stopped");
    if (input.state === "TASK_STAGING")
      refuse("TASK_STAGING", "refused: executors never send TASK_STAGING");
    if (input.state === "TASK_KILLING" && !this.killingAllowed) {
      refuse(
        "TASK_KILLING_NOT_SUPPORTED",
        "refused: TASK_KILLING needs the framework capability TASK_KILLING_STATE",
      );
    }
    if (!this.ledger.knows(taskId)) refuse("UNKNOWN_TASK", "refused: no such task was launched");
    if (this.ledger.isTerminal(taskId)) {
      refuse("AFTER_TERMINAL", "refused: the task already had its terminal update");
    }
    const { data, ...rest } = input;
    const status: TaskStatus = {
      ...rest,
      ...(data !== undefined ? { data: typeof data === "string" ? data : toBase64(data) } : {}),
      source: "SOURCE_EXECUTOR",
      executor_id: { value: this.env.executorId },
      timestamp: input.timestamp ?? Date.now() / 1000,
      uuid: newStatusUuid(),
    };
    const entry = this.ledger.record(status);
    // One UPDATE in flight at a time keeps the agent seeing a task's updates in order.
    const sent = this.sendChain.then(() => this.deliver(entry));
    this.sendChain = sent.catch(() => undefined);
    await sent;
    return status;
  }

  /** MESSAGE: best-effort bytes to the scheduler. Needs a live subscription. */
  async message(data: Uint8Array | string): Promise<void> {
    if (!this.connected) throw new NotSubscribedError("MESSAGE");
    await this.call({ ...this.envelope(), type: "MESSAGE", message: { data: toBase64(data) } });
  }

  /** HEARTBEAT call (optional keep-alive; the agent always answers 202). */
  async heartbeat(): Promise<void> {
    await this.call({ ...this.envelope(), type: "HEARTBEAT" });
  }

  /**
   * Shutdown bookkeeping: calls `kill` for every active task with a signal that aborts
   * shortly before the deadline, reports TASK_KILLED (or TASK_FAILED if `kill` rejected)
   * for tasks the caller did not report itself, then waits (until the deadline) for the
   * agent to acknowledge. Starts a shutdown with the configured grace period if no SHUTDOWN
   * arrived. The caller exits afterwards (after stop()).
   */
  async shutdownTasks(
    kill: (task: TaskInfo, signal: AbortSignal) => Promise<void>,
  ): Promise<ShutdownSummary> {
    const shutdown = this.shutdown ?? this.beginShutdown();
    const remaining = () => shutdown.deadline - Date.now();
    // Leave a margin to report the kills before the agent destroys the container.
    const margin = Math.min(1000, shutdown.gracePeriodMs / 10);
    const killSignal = AbortSignal.timeout(Math.max(0, remaining() - margin));
    const killed: string[] = [];
    const failed: string[] = [];
    const late = Symbol("late");
    await Promise.all(
      this.ledger.activeTasks().map(async (task) => {
        const id = task.task_id.value;
        let failure: unknown;
        try {
          const outcome = await this.withinDeadline(
            Promise.resolve().then(() => kill(task, killSignal)),
            shutdown.deadline,
            late,
          );
          // Still dying at the deadline: nothing true can be reported; the agent takes over.
          if (outcome === late) {
            failed.push(id);
            return;
          }
        } catch (err) {
          failure = err;
        }
        (failure === undefined ? killed : failed).push(id);
        if (this.ledger.isTerminal(id)) return; // the caller reported it
        const status: ExecutorStatusInput =
          failure === undefined
            ? { task_id: task.task_id, state: "TASK_KILLED", message: "executor shutdown" }
            : {
                task_id: task.task_id,
                state: "TASK_FAILED",
                message: `kill during shutdown failed: ${(failure as Error)?.message ?? String(failure)}`,
              };
        await this.withinDeadline(this.update(status), shutdown.deadline, late).catch(
          (err: unknown) => this.warn(err),
        );
      }),
    );
    await this.waitFor(() => this.ledger.unacknowledgedCount === 0, shutdown.deadline);
    return { killed, failed, unacknowledged: this.ledger.unacknowledgedCount };
  }

  // ---- subscription loop -----------------------------------------------------------

  private async loop(): Promise<void> {
    const backoffMax = this.env.subscriptionBackoffMaxMs;
    const backoff = new Backoff({
      initialMs: Math.min(this.opts.backoffInitialMs ?? 250, backoffMax),
      maxMs: backoffMax,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
    let windowMs = this.opts.registrationTimeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS;
    let deadline = Date.now() + windowMs;
    let attempt = 0;
    let lastError: unknown;
    while (!this.stopped) {
      if (Date.now() >= deadline) {
        return this.die(new ExecutorRecoveryTimeoutError(windowMs, { cause: lastError }));
      }
      attempt += 1;
      const outcome = await this.subscribeOnce(deadline);
      if (outcome.kind === "lost" || outcome.kind === "retry") lastError = outcome.error;
      if (outcome.kind === "stopped" || this.stopped) return;
      if (outcome.kind === "fatal") return this.die(outcome.error);
      if (outcome.kind === "lost") {
        if (!this.env.checkpoint) {
          return this.die(
            new ExecutorDisconnectedError(
              "lost the agent and MESOS_CHECKPOINT=0: not reconnecting; stop all tasks and exit",
              { cause: outcome.error },
            ),
          );
        }
        // Agent restart: tasks keep running; resubscribe within the recovery timeout.
        windowMs = this.env.recoveryTimeoutMs;
        deadline = Date.now() + windowMs;
        attempt = 0;
        // At once after a stream that lived; with backoff when streams keep failing fast
        // (an agent answering every subscription with ERROR must not be hammered).
        if (performance.now() - outcome.subscribedAt >= backoffMax) {
          backoff.reset();
          this.emitSafe("reconnecting", { error: outcome.error, attempt, delayMs: 0, deadline });
          continue;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        return this.die(new ExecutorRecoveryTimeoutError(windowMs, { cause: outcome.error }));
      }
      const pause = Math.min(backoff.next(), left);
      this.emitSafe("reconnecting", { error: outcome.error, attempt, delayMs: pause, deadline });
      try {
        await delay(pause, this.stopController.signal);
      } catch {
        return;
      }
    }
  }

  private async subscribeOnce(deadline: number): Promise<StreamOutcome> {
    const remaining = Math.max(1, deadline - Date.now());
    const resubscribe = this.everSubscribed;
    const updates = this.ledger.unacknowledgedUpdates();
    const tasks = this.ledger.unacknowledgedTasks();
    const call: ExecutorCall = {
      ...this.envelope(),
      type: "SUBSCRIBE",
      subscribe: {
        ...(tasks.length ? { unacknowledged_tasks: tasks } : {}),
        ...(updates.length
          ? { unacknowledged_updates: updates.map((status) => ({ status })) }
          : {}),
      },
    };
    // The headers must arrive within the window; the body then streams without a limit.
    const attempt = new AbortController();
    const onStop = () => attempt.abort(this.stopController.signal.reason);
    this.stopController.signal.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(
      () => attempt.abort(new MesosTimeoutError(`SUBSCRIBE got no answer in ${remaining} ms`)),
      remaining,
    );
    let stream: HttpStream;
    try {
      stream = await this.transport.openStream(
        this.env.agentUrl,
        stringifyMesosJson(call),
        {},
        attempt.signal,
      );
    } catch (err) {
      return this.stopped ? { kind: "stopped" } : { kind: "retry", error: err };
    } finally {
      clearTimeout(timer);
      this.stopController.signal.removeEventListener("abort", onStop);
    }
    if (this.stopped) {
      stream.close();
      return { kind: "stopped" };
    }
    if (stream.status !== 200) {
      const body = await stream.text().catch(() => "");
      const error = new MesosHttpError(stream.status, body, "executor SUBSCRIBE");
      // 503: the agent is still recovering; other 5xx may be transient. 4xx cannot be fixed
      // by retrying (bad ids, authentication, executor unknown to the agent).
      return stream.status >= 500 ? { kind: "retry", error } : { kind: "fatal", error };
    }
    this.current = stream;
    const carried = updates.map((s) => s.uuid!);
    let subscribedAt: number | undefined;
    let error: unknown;
    // A 200 answer that never delivers SUBSCRIBED must not hold the window forever.
    let silent = false;
    const firstRecordTimer = setTimeout(
      () => {
        silent = true;
        stream.close();
      },
      Math.max(1, deadline - Date.now()),
    );
    try {
      for await (const record of readRecords(stream.body, this.recordOptions())) {
        let event: DecodedExecutorEvent;
        try {
          event = toExecutorEvent(decodeMessage(record));
        } catch (err) {
          // A well-framed event of a known type but malformed is skipped once subscribed
          // (the stream is still in step); before SUBSCRIBED nothing is trusted yet.
          if (subscribedAt === undefined || !(err instanceof InvalidEventError)) throw err;
          this.emitSafe("invalidEvent", err);
          continue;
        }
        if (subscribedAt === undefined) {
          if (event.type !== "SUBSCRIBED") {
            throw new MesosProtocolError(`first event was ${event.type}, expected SUBSCRIBED`);
          }
          clearTimeout(firstRecordTimer);
          subscribedAt = performance.now();
          this.onSubscribed(event.subscribed, resubscribe, carried);
          continue;
        }
        this.dispatch(event);
      }
      error = new MesosConnectionError("the agent closed the event stream");
    } catch (err) {
      error =
        err instanceof MesosError
          ? err
          : new MesosConnectionError(`event stream failed: ${(err as Error)?.message ?? err}`, {
              cause: err,
            });
    } finally {
      clearTimeout(firstRecordTimer);
      stream.close();
      this.current = undefined;
      this.connected = false;
      this.wake();
    }
    if (this.stopped) return { kind: "stopped" };
    if (silent)
      error = new MesosTimeoutError("SUBSCRIBE answered 200 but sent no SUBSCRIBED in time");
    return subscribedAt !== undefined
      ? { kind: "lost", error, subscribedAt }
      : { kind: "retry", error };
  }

  private recordOptions() {
    return this.opts.maxRecordBytes !== undefined
      ? { maxRecordBytes: this.opts.maxRecordBytes }
      : {};
  }

  private onSubscribed(info: ExecutorSubscribedEvent, resubscribed: boolean, carried: string[]) {
    this.subscribedInfo = info;
    this.killingAllowed =
      info.framework_info.capabilities?.some((c) => c.type === "TASK_KILLING_STATE") ?? false;
    this.everSubscribed = true;
    this.connected = true;
    // The agent now holds every update that the SUBSCRIBE carried.
    this.ledger.markDelivered(carried);
    this.wake();
    this.emitSafe("subscribed", info, { resubscribed });
  }

  private dispatch(event: DecodedExecutorEvent): void {
    switch (event.type) {
      case "SUBSCRIBED":
        // Only the first record of a stream may be SUBSCRIBED.
        throw new MesosProtocolError("SUBSCRIBED received twice on one stream");
      case "LAUNCH":
        this.onLaunch([event.launch.task], undefined);
        return;
      case "LAUNCH_GROUP":
        this.onLaunch(event.launch_group.task_group.tasks, event.launch_group.task_group);
        return;
      case "KILL": {
        const id = event.kill.task_id.value;
        const task = this.ledger.task(id);
        const killPolicy = event.kill.kill_policy ?? task?.kill_policy;
        const repeated = this.killsSeen.has(id);
        this.killsSeen.add(id);
        this.emitSafe("kill", {
          taskId: event.kill.task_id,
          task,
          killPolicy,
          gracePeriodMs: durationInfoMs(killPolicy?.grace_period),
          repeated,
        });
        return;
      }
      case "ACKNOWLEDGED": {
        const { task_id, uuid } = event.acknowledged;
        const status = this.ledger.acknowledge(task_id.value, uuid);
        this.wake();
        this.emitSafe("acknowledged", { taskId: task_id, uuid, status });
        return;
      }
      case "MESSAGE":
        this.emitSafe("message", fromBase64(event.message.data));
        return;
      case "SHUTDOWN":
        if (!this.shutdown) this.emitSafe("shutdown", this.beginShutdown());
        return;
      case "ERROR":
        // Legacy: the agent gave up on this stream. Report it, drop the stream, resubscribe.
        this.emitSafe("agentError", event.error.message);
        throw new SubscriptionRefusedError(`agent ERROR event: ${event.error.message}`);
      case "HEARTBEAT":
        this.emitSafe("heartbeat");
        return;
      case "UNKNOWN_EVENT":
        this.emitSafe("unknown", event.originalType, event.raw);
        return;
    }
  }

  private onLaunch(tasks: TaskInfo[], group: TaskGroupInfo | undefined): void {
    const fresh = tasks.filter((task) => {
      if (this.ledger.launch(task) === "new") return true;
      this.emitSafe(
        "warning",
        new MesosProtocolError(`ignoring a second LAUNCH of live task '${task.task_id.value}'`),
      );
      return false;
    });
    if (fresh.length === 0) return;
    if (this.shutdown) {
      // No new work after SHUTDOWN: report the tasks killed so each gets its terminal update.
      for (const task of fresh) {
        this.emitSafe(
          "warning",
          new MesosProtocolError(`refusing launch of '${task.task_id.value}' after SHUTDOWN`),
        );
        this.update({
          task_id: task.task_id,
          state: "TASK_KILLED",
          message: "executor is shutting down",
        }).catch((err: unknown) => this.warn(err));
      }
      return;
    }
    if (group) this.emitSafe("launchGroup", fresh, group);
    else this.emitSafe("launch", fresh[0]!);
  }

  private beginShutdown(): ShutdownRequest {
    const gracePeriodMs = this.env.shutdownGracePeriodMs;
    this.shutdown = {
      gracePeriodMs,
      deadline: Date.now() + gracePeriodMs,
      signal: AbortSignal.timeout(gracePeriodMs),
    };
    return this.shutdown;
  }

  private die(error: ExecutorFatalError): void {
    this.fatal = error;
    this.stopped = true;
    this.connected = false;
    this.wake();
    this.emitSafe("disconnected", error);
  }

  // ---- delivery of calls -------------------------------------------------------------

  private envelope() {
    return {
      executor_id: { value: this.env.executorId },
      framework_id: { value: this.env.frameworkId },
    };
  }

  /** POSTs one UPDATE until the agent takes it, or a resubscription carries it. */
  private async deliver(entry: UpdateEntry): Promise<void> {
    const uuid = entry.status.uuid!;
    const backoff = this.callBackoff();
    const body = stringifyMesosJson({
      ...this.envelope(),
      type: "UPDATE",
      update: { status: entry.status },
    } satisfies ExecutorCall);
    while (true) {
      if (!this.ledger.pending(uuid) || entry.delivered) return;
      if (this.stopped) throw this.fatalOrStopped();
      if (!this.connected) {
        await this.waitFor(() => this.connected || this.stopped, Infinity);
        continue;
      }
      let status: number;
      let text: string;
      try {
        ({ status, text } = await this.transport.post(
          this.env.agentUrl,
          body,
          {},
          {
            signal: this.stopController.signal,
          },
        ));
      } catch (err) {
        if (this.stopped) throw this.fatalOrStopped();
        // Connection trouble: keep the update; resend, or let the next SUBSCRIBE carry it.
        this.warn(err);
        await this.pause(backoff);
        continue;
      }
      if (status === 202) {
        entry.delivered = true;
        return;
      }
      const error = new MesosHttpError(
        status,
        text,
        `executor UPDATE of task '${entry.status.task_id.value}'`,
      );
      if (status >= 500) {
        if (status !== 503) this.warn(error);
        await this.pause(backoff);
        continue;
      }
      // The agent rejected it: it will never be acknowledged, so do not carry it around.
      this.ledger.retract(uuid);
      throw error;
    }
  }

  /** A non-UPDATE call: 202 expected; 503 retried while subscribed; other answers typed. */
  private async call(call: ExecutorCall): Promise<void> {
    const backoff = this.callBackoff();
    const body = stringifyMesosJson(call);
    while (true) {
      const { status, text } = await this.transport.post(
        this.env.agentUrl,
        body,
        {},
        {
          signal: this.stopController.signal,
        },
      );
      if (status === 202) return;
      const error = new MesosHttpError(status, text, `executor ${call.type}`);
      if (status !== 503 || this.stopped) throw error;
      await this.pause(backoff);
    }
  }

  private callBackoff(): Backoff {
    const max = this.env.subscriptionBackoffMaxMs;
    return new Backoff({
      initialMs: Math.min(this.opts.backoffInitialMs ?? 250, max),
      maxMs: max,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
  }

  private async pause(backoff: Backoff): Promise<void> {
    // Wakes early on any state change (a resubscription may have carried the update).
    let armed = false;
    const pending = this.waitFor(() => armed, Date.now() + backoff.next());
    armed = true;
    await pending;
  }

  private fatalOrStopped(): MesosError {
    return this.fatal ?? new ExecutorDisconnectedError("executor client stopped");
  }

  // ---- small helpers -----------------------------------------------------------------

  /** Resolves when `done()` holds (checked on every state change) or at `deadline`. */
  private waitFor(done: () => boolean, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      if (done() || Date.now() >= deadline) return resolve();
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (done() || this.stopped) {
          if (timer) clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
      if (Number.isFinite(deadline)) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }, deadline - Date.now());
      }
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** `p`, or `onTimeout` once `deadline` passes first. */
  private withinDeadline<T, L>(p: Promise<T>, deadline: number, onTimeout: L): Promise<T | L> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<L>((resolve) => {
      timer = setTimeout(() => resolve(onTimeout), Math.max(0, deadline - Date.now()));
    });
    return Promise.race([p, expired]).finally(() => clearTimeout(timer));
  }

  private warn(err: unknown): void {
    this.emitSafe("warning", toError(err));
  }

  /** A listener that throws must not take the event stream down with it. */
  private emitSafe<K extends keyof ExecutorClientEvents>(
    name: K,
    ...args: ExecutorClientEvents[K]
  ): void {
    try {
      (this.emit as (n: K, ...a: ExecutorClientEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      if (name === "warning") return;
      this.emitSafe("warning", toError(err));
    }
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
