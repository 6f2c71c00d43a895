// The scheduler side of the Mesos v1 HTTP API: one long-lived SUBSCRIBE stream, calls on
// other connections, and the whole reconnection policy (detect the leader, follow 307s,
// back off on 503 and failures, watchdog on heartbeats, resubscribe with the stored
// framework id). Decisions about tasks and offers stay with the caller.
import { EventEmitter } from "node:events";
import { Backoff, delay, type BackoffOptions } from "../backoff.js";
import type { Credential } from "../credentials.js";
import {
  FrameworkFailedOverError,
  FrameworkRemovedError,
  HeartbeatTimeoutError,
  InvalidEventError,
  MesosConnectionError,
  MesosError,
  MesosHttpError,
  MesosProtocolError,
  NotAMesosMasterError,
  NotSubscribedError,
  SubscriptionRefusedError,
  bodyExcerpt,
} from "../errors.js";
import {
  HttpTransport,
  headerValue,
  resolveLocation,
  type HttpStream,
  type TlsOptions,
} from "../http.js";
import { stringifyMesosJson } from "../json.js";
import { silentLogger, type MesosLogger } from "../logger.js";
import { RecordIODecoder, DEFAULT_MAX_RECORD_BYTES } from "../recordio.js";
import type {
  Filters,
  FrameworkInfo,
  InverseOffer,
  KillPolicy,
  MasterInfo,
  Offer,
  OfferID,
  Operation,
  OperationStatus,
  Request,
  TaskStatus,
} from "../types/common.js";
import type {
  FailureEvent,
  SchedulerCall,
  SchedulerEvent,
  SchedulerMessageEvent,
} from "../types/scheduler.js";
import * as calls from "./calls.js";
import { decodeSchedulerEvent, type DecodedSchedulerEvent } from "./events.js";
import { fixedMaster, type MasterSource } from "./master-source.js";

type IdLike = string | { value: string };

export interface SchedulerClientOptions {
  /** A master URL (`http://host:5050`) or a detector of the leading master. */
  master: string | MasterSource;
  /** FrameworkInfo without `id`; the client sets `id` from `frameworkId`. */
  frameworkInfo: FrameworkInfo;
  /** The framework id persisted by an earlier run, if any. */
  frameworkId?: string;
  /**
   * Durably stores a framework id. Awaited before the client acts on a new SUBSCRIBED: if
   * it fails, the subscription is dropped and retried (the id is kept in memory for it).
   */
  persistFrameworkId: (frameworkId: string) => Promise<void> | void;
  /**
   * Awaited before every subscription attempt: a rejection counts as a failed attempt
   * (logged, retried with backoff) and nothing is sent. A scheduler that must be sure it
   * still leads (elected in ZooKeeper) proves it here, so that one paused past its session
   * does not subscribe before it learns it was deposed.
   */
  beforeSubscribe?: () => Promise<void>;
  /** Roles to subscribe as suppressed (evaluated at each subscription). */
  suppressedRoles?: () => string[];
  credential?: Credential;
  tls?: TlsOptions;
  /** Time limit of every non-streaming call (default 75 s). */
  callTimeoutMs?: number;
  /** Heartbeat intervals without any record before the stream is declared dead (default 5). */
  heartbeatMisses?: number;
  /** Used until SUBSCRIBED says otherwise (Mesos: 15 s). */
  defaultHeartbeatSeconds?: number;
  /** Reconnection backoff (default 1 s doubling to 15 s, with jitter). */
  backoff?: BackoffOptions;
  maxRecordBytes?: number;
  /** Redirects followed within one subscription attempt (default 3). */
  maxRedirects?: number;
  /**
   * While no leading master is known, a log line after `afterMs` (default 2 s) and then
   * every `everyMs` (default 10 s), with what the master source says is wrong.
   */
  leaderNotice?: { afterMs?: number; everyMs?: number };
  logger?: MesosLogger;
}

export interface SubscribedInfo {
  frameworkId: string;
  heartbeatIntervalSeconds: number;
  masterInfo: MasterInfo | undefined;
  masterUrl: string;
  streamId: string;
  /** True when the subscription reused a framework id (failover or reconnection). */
  resubscribed: boolean;
}

export interface SchedulerClientEvents {
  /**
   * Every event of a known type once checked, in arrival order, SUBSCRIBED included (after
   * the framework id is persisted), ERROR excluded (the client handles it): what an event
   * pipeline consumes. The per-type events below carry the same events for observers.
   */
  event: [event: SchedulerEvent];
  /** A known event lacking or mistyping a field the framework reads: skipped, and logged. */
  invalidEvent: [error: InvalidEventError];
  subscribed: [info: SubscribedInfo];
  /** The subscription ended; held offers are void. The client reconnects unless stopped. */
  disconnected: [info: { error: Error | undefined; retryInMs: number | undefined }];
  offers: [offers: Offer[]];
  inverseOffers: [inverseOffers: InverseOffer[]];
  rescind: [offerId: OfferID];
  rescindInverseOffer: [inverseOfferId: OfferID];
  update: [status: TaskStatus];
  operationStatus: [status: OperationStatus];
  message: [message: SchedulerMessageEvent];
  failure: [failure: FailureEvent];
  heartbeat: [];
  /** An event type this library does not know; ignored otherwise. */
  unknownEvent: [type: string, raw: Record<string, unknown>];
  /** The client gave up for good (failed over, removed, refused); it has stopped. */
  fatal: [error: MesosError];
  /** A caller's event handler threw; the stream carries on. */
  handlerError: [error: unknown, event: string];
}

interface Subscription {
  frameworkId: string;
  streamId: string;
  masterUrl: string;
  stream: HttpStream;
}

export type SchedulerClientState = "idle" | "connecting" | "subscribed" | "stopped";

export class SchedulerClient extends EventEmitter<SchedulerClientEvents> {
  private readonly opts: SchedulerClientOptions;
  private readonly source: MasterSource;
  private readonly transport: HttpTransport;
  private readonly backoff: Backoff;
  private readonly log: MesosLogger;
  private frameworkIdValue: string | undefined;
  /** Acknowledgements in flight (agent/task/uuid). */
  private readonly acknowledging = new Set<string>();
  private persistedId: string | undefined;
  private subscription: Subscription | undefined;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private stateValue: SchedulerClientState = "idle";
  private fatalError: MesosError | undefined;

  constructor(opts: SchedulerClientOptions) {
    super();
    this.opts = opts;
    this.source = typeof opts.master === "string" ? fixedMaster(opts.master) : opts.master;
    this.transport = new HttpTransport({
      ...(opts.credential ? { credential: opts.credential } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
    });
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 15_000, ...opts.backoff });
    this.log = opts.logger ?? silentLogger;
    this.frameworkIdValue = opts.frameworkId || undefined;
    this.persistedId = this.frameworkIdValue;
  }

  get state(): SchedulerClientState {
    return this.stateValue;
  }

  /** The framework id, once known (given at construction or received in SUBSCRIBED). */
  get frameworkId(): string | undefined {
    return this.frameworkIdValue;
  }

  /** The current subscription's stream id (undefined while not subscribed). */
  get streamId(): string | undefined {
    return this.subscription?.streamId;
  }

  get masterUrl(): string | undefined {
    return this.subscription?.masterUrl;
  }

  /** The error that stopped the client for good, if any. */
  get fatal(): MesosError | undefined {
    return this.fatalError;
  }

  /** Starts subscribing; the client keeps a subscription alive until stop() or a fatal error. */
  start(): void {
    if (this.loop) return;
    this.stateValue = "connecting";
    this.loop = this.run();
  }

  /** Closes the stream and stops reconnecting. Resolves when everything is closed. */
  async stop(): Promise<void> {
    this.abort.abort(new MesosError("STOPPED", "scheduler client stopped"));
    this.subscription?.stream.close();
    await this.loop;
    await this.transport.close();
    this.stateValue = "stopped";
  }

  /** Resolves when the client has stopped (after stop() or a fatal error). */
  async closed(): Promise<void> {
    await this.loop;
  }

  // ---- the subscription loop -------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let error: Error | undefined;
      try {
        if (this.opts.beforeSubscribe) await this.opts.beforeSubscribe();
        if (!signal.aborted) await this.attempt(signal);
      } catch (err) {
        error = err as Error;
      }
      if (signal.aborted) break;
      if (error instanceof FrameworkFailedOverError || error instanceof FrameworkRemovedError) {
        this.giveUp(error);
        break;
      }
      if (error instanceof SubscriptionRefusedError || error instanceof NotAMesosMasterError) {
        this.giveUp(error);
        break;
      }
      const wait = this.backoff.next();
      this.log.warn(
        { err: describe(error), retryInMs: wait },
        "mesos subscription ended; reconnecting",
      );
      this.safeEmit("disconnected", { error, retryInMs: wait });
      try {
        await delay(wait, signal);
      } catch {
        break;
      }
    }
    this.stateValue = "stopped";
    await this.transport
      .close()
      .catch((err: unknown) => this.log.warn({ err: describe(err) }, "HTTP transport not closed"));
  }

  private giveUp(error: MesosError): void {
    this.fatalError = error;
    this.stateValue = "stopped";
    this.log.error({ err: describe(error) }, "mesos subscription stopped for good");
    this.safeEmit("disconnected", { error, retryInMs: undefined });
    this.safeEmit("fatal", error);
  }

  private subscribeBody(): string {
    const info: FrameworkInfo = { ...this.opts.frameworkInfo };
    delete info.id;
    const call = calls.subscribe(
      this.frameworkIdValue ? { ...info, id: { value: this.frameworkIdValue } } : info,
      this.opts.suppressedRoles?.(),
    );
    return stringifyMesosJson(
      this.frameworkIdValue ? { framework_id: { value: this.frameworkIdValue }, ...call } : call,
    );
  }

  private async attempt(signal: AbortSignal): Promise<void> {
    this.stateValue = "connecting";
    let base = await this.leader(signal);
    const maxRedirects = this.opts.maxRedirects ?? 3;
    for (let hop = 0; ; hop++) {
      const url = new URL("/api/v1/scheduler", base).toString();
      let stream: HttpStream;
      try {
        stream = await this.transport.openStream(url, this.subscribeBody(), {}, signal);
      } catch (err) {
        if (err instanceof MesosConnectionError) this.source.invalidate?.(base);
        throw err;
      }
      if (stream.status === 307) {
        const location = headerValue(stream.headers, "location");
        stream.close();
        if (!location) throw new MesosHttpError(307, "redirect without Location", "SUBSCRIBE");
        if (hop >= maxRedirects) {
          throw new MesosHttpError(307, `too many redirects (last to ${location})`, "SUBSCRIBE");
        }
        this.source.invalidate?.(base);
        // Mesos sends a scheme-relative Location; keep our own scheme.
        base = new URL(resolveLocation(location, url)).origin;
        this.log.info({ master: base }, "following the master's redirect to the leader");
        continue;
      }
      if (stream.status !== 200) {
        const text = await stream.text().catch(() => "");
        // No scheduler API there: a wrong --master (a web server, an agent, a typo'd port).
        if (stream.status === 404 || stream.status === 405) {
          throw new NotAMesosMasterError(base, `HTTP ${stream.status} on /api/v1/scheduler`);
        }
        const err = new MesosHttpError(stream.status, text, `SUBSCRIBE to ${base}`);
        if (isRetryableStatus(stream.status)) throw err;
        throw new SubscriptionRefusedError(err.message);
      }
      const streamId = headerValue(stream.headers, "mesos-stream-id");
      if (!streamId) {
        stream.close();
        // A master always names the stream; a 200 without it comes from something else
        // (a web server answering every path).
        throw new NotAMesosMasterError(
          base,
          "its answer to SUBSCRIBE on /api/v1/scheduler has no Mesos-Stream-Id",
        );
      }
      await this.consume(stream, base, streamId, signal);
      return;
    }
  }

  private async consume(
    stream: HttpStream,
    masterUrl: string,
    streamId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const decoder = new RecordIODecoder({
      maxRecordBytes: this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    });
    const misses = this.opts.heartbeatMisses ?? 5;
    let intervalMs = (this.opts.defaultHeartbeatSeconds ?? 15) * 1000;
    let watchdogError: HeartbeatTimeoutError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      const limit = misses * intervalMs;
      timer = setTimeout(() => {
        watchdogError = new HeartbeatTimeoutError(limit);
        stream.close();
      }, limit);
    };
    arm();
    let subscribed = false;
    try {
      for await (const chunk of stream.body) {
        for (const record of decoder.push(chunk)) {
          arm();
          let decoded: DecodedSchedulerEvent;
          try {
            decoded = decodeSchedulerEvent(record);
          } catch (err) {
            // A well-framed event of a known type but malformed is skipped once subscribed:
            // the stream is still in step, and acting on it could only go wrong. Before
            // SUBSCRIBED nothing is trusted yet: the stream is dropped and retried.
            if (!subscribed || !(err instanceof InvalidEventError)) throw err;
            this.log.error(
              { event: err.eventType, problem: err.problem },
              "invalid mesos event skipped",
            );
            this.safeEmit("invalidEvent", err);
            continue;
          }
          if (!decoded.known) {
            this.log.debug({ type: decoded.type }, "ignoring unknown mesos event type");
            this.safeEmit("unknownEvent", decoded.type, decoded.raw);
            continue;
          }
          const event = decoded.event;
          if (decoded.dropped.length > 0) {
            this.log.error(
              { event: event.type, dropped: decoded.dropped.length, problem: decoded.dropped[0] },
              "invalid offers left out of a mesos event",
            );
          }
          if (event.type === "ERROR") throw classifyErrorEvent(event.error.message, masterUrl);
          if (!subscribed) {
            if (event.type !== "SUBSCRIBED") {
              throw new MesosProtocolError(`first event was ${event.type}, expected SUBSCRIBED`);
            }
            const fid = event.subscribed.framework_id?.value;
            if (!fid) throw new MesosProtocolError("SUBSCRIBED without framework_id");
            const resubscribed = this.frameworkIdValue === fid;
            this.frameworkIdValue = fid;
            if (this.persistedId !== fid) {
              // Nothing acts on a framework id that is not durably stored.
              await this.opts.persistFrameworkId(fid);
              this.persistedId = fid;
            }
            const hb = event.subscribed.heartbeat_interval_seconds;
            if (typeof hb === "number" && hb > 0) intervalMs = hb * 1000;
            arm();
            subscribed = true;
            this.subscription = { frameworkId: fid, streamId, masterUrl, stream };
            this.stateValue = "subscribed";
            this.backoff.reset();
            this.log.info({ frameworkId: fid, master: masterUrl }, "subscribed to mesos");
            this.safeEmit("subscribed", {
              frameworkId: fid,
              heartbeatIntervalSeconds: intervalMs / 1000,
              masterInfo: event.subscribed.master_info,
              masterUrl,
              streamId,
              resubscribed,
            });
            this.safeEmit("event", event);
            continue;
          }
          this.dispatch(event);
        }
      }
      decoder.end();
      throw new MesosConnectionError("the master closed the event stream");
    } catch (err) {
      if (watchdogError) {
        this.source.invalidate?.(masterUrl);
        throw watchdogError;
      }
      if (signal.aborted) return;
      throw err;
    } finally {
      clearTimeout(timer);
      stream.close();
      if (this.subscription?.stream === stream) this.subscription = undefined;
      if (this.stateValue === "subscribed") this.stateValue = "connecting";
    }
  }

  private dispatch(event: SchedulerEvent): void {
    if (event.type === "SUBSCRIBED") {
      this.log.warn({}, "ignoring a second SUBSCRIBED on the same stream");
      return;
    }
    if (event.type !== "ERROR") this.safeEmit("event", event);
    switch (event.type) {
      case "OFFERS":
        this.safeEmit("offers", event.offers.offers ?? []);
        return;
      case "INVERSE_OFFERS":
        this.safeEmit("inverseOffers", event.inverse_offers.inverse_offers ?? []);
        return;
      case "RESCIND":
        this.safeEmit("rescind", event.rescind.offer_id);
        return;
      case "RESCIND_INVERSE_OFFER":
        this.safeEmit("rescindInverseOffer", event.rescind_inverse_offer.inverse_offer_id);
        return;
      case "UPDATE":
        this.safeEmit("update", event.update.status);
        return;
      case "UPDATE_OPERATION_STATUS":
        this.safeEmit("operationStatus", event.update_operation_status.status);
        return;
      case "MESSAGE":
        this.safeEmit("message", event.message);
        return;
      case "FAILURE":
        this.safeEmit("failure", event.failure);
        return;
      case "HEARTBEAT":
        this.safeEmit("heartbeat");
        return;
      case "ERROR":
        return; // handled by the stream loop
    }
  }

  /** The leading master's URL; while none is known, says so after 2 s, then every 10 s. */
  private async leader(signal: AbortSignal): Promise<string> {
    const afterMs = this.opts.leaderNotice?.afterMs ?? 2000;
    const everyMs = this.opts.leaderNotice?.everyMs ?? 10_000;
    const since = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const notice = () => {
      const problem = this.source.problem?.();
      this.log.warn(
        {
          master: this.source.label,
          waitedMs: Date.now() - since,
          ...(problem ? { problem: bodyExcerpt(problem) } : {}),
        },
        "no leading Mesos master known yet; still looking",
      );
      timer = setTimeout(notice, everyMs).unref();
    };
    timer = setTimeout(notice, afterMs).unref();
    try {
      return await this.source.leader(signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private safeEmit<K extends keyof SchedulerClientEvents>(
    name: K,
    ...args: SchedulerClientEvents[K]
  ): void {
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      this.log.error({ err: describe(err), event: name }, "scheduler event handler threw");
      if (name !== "handlerError") this.safeEmit("handlerError", err, name);
    }
  }

  // ---- calls ----------------------------------------------------------------------------

  /**
   * Sends a call on the current subscription. Resolves when Mesos queued it (202; 200 for
   * UPDATE_FRAMEWORK): effects arrive later as events. A 307, 403 or 503 answer means the
   * subscription is no longer valid: it is dropped so the client resubscribes.
   */
  async call(call: SchedulerCall): Promise<void> {
    const sub = this.subscription;
    if (!sub) throw new NotSubscribedError(call.type);
    const body = stringifyMesosJson({ framework_id: { value: sub.frameworkId }, ...call });
    const url = new URL("/api/v1/scheduler", sub.masterUrl).toString();
    // An acknowledgement lets the agent send the task's next update (often its end): it
    // goes ahead of launches and declines waiting for a connection.
    const urgent = call.type === "ACKNOWLEDGE" || call.type === "ACKNOWLEDGE_OPERATION_STATUS";
    const answer = await this.transport.post(
      url,
      body,
      { "mesos-stream-id": sub.streamId },
      { urgent },
    );
    if (answer.status === 202 || (answer.status === 200 && call.type === "UPDATE_FRAMEWORK")) {
      return;
    }
    if (answer.status === 307 || answer.status === 403 || answer.status === 503) {
      this.log.warn(
        { status: answer.status, call: call.type },
        "master no longer accepts this subscription; resubscribing",
      );
      if (answer.status !== 403) this.source.invalidate?.(sub.masterUrl);
      sub.stream.close();
    }
    throw new MesosHttpError(answer.status, answer.text, call.type);
  }

  teardown = async (): Promise<void> => {
    await this.call(calls.teardown());
    await this.stop();
  };
  accept = (offerIds: IdLike[], operations: Operation[], filters?: Filters) =>
    this.call(calls.accept(offerIds, operations, filters));
  decline = (offerIds: IdLike[], filters?: Filters) => this.call(calls.decline(offerIds, filters));
  acceptInverseOffers = (ids: IdLike[], filters?: Filters) =>
    this.call(calls.acceptInverseOffers(ids, filters));
  declineInverseOffers = (ids: IdLike[], filters?: Filters) =>
    this.call(calls.declineInverseOffers(ids, filters));
  revive = (roles?: string[]) => this.call(calls.revive(roles));
  suppress = (roles?: string[]) => this.call(calls.suppress(roles));
  kill = (taskId: IdLike, agentId?: IdLike, killPolicy?: KillPolicy) =>
    this.call(calls.kill(taskId, agentId, killPolicy));
  shutdown = (executorId: IdLike, agentId: IdLike) =>
    this.call(calls.shutdown(executorId, agentId));
  /** Acknowledges an update; throws for updates without uuid (which must not be acknowledged). */
  acknowledge = (status: TaskStatus) => this.call(calls.acknowledge(status));
  /**
   * Acknowledges when the update carries a uuid; resolves false when there was nothing to
   * do: no uuid, or the same update's acknowledgement is already on its way. (An agent
   * resends an update until acknowledged; on a busy master the copies can arrive while the
   * first acknowledgement waits, and acknowledging each again only adds to the wait.)
   */
  acknowledgeIfNeeded = async (status: TaskStatus): Promise<boolean> => {
    if (!status.uuid) return false;
    const key = `${status.agent_id?.value}/${status.task_id.value}/${status.uuid}`;
    if (this.acknowledging.has(key)) return false;
    this.acknowledging.add(key);
    try {
      await this.call(calls.acknowledge(status));
    } finally {
      this.acknowledging.delete(key);
    }
    return true;
  };
  acknowledgeOperationStatus = (agentId: IdLike | undefined, operationId: IdLike, uuid: string) =>
    this.call(calls.acknowledgeOperationStatus(agentId, operationId, uuid));
  reconcile = (tasks: { taskId: IdLike; agentId?: IdLike }[] = []) =>
    this.call(calls.reconcile(tasks));
  reconcileOperations = (ops: { operationId: IdLike; agentId?: IdLike }[] = []) =>
    this.call(calls.reconcileOperations(ops));
  message = (agentId: IdLike, executorId: IdLike, data: Uint8Array | string) =>
    this.call(calls.message(agentId, executorId, data));
  request = (requests: Request[]) => this.call(calls.request(requests));
  updateFramework = (frameworkInfo: FrameworkInfo, suppressedRoles?: string[]) => {
    const id = this.frameworkIdValue;
    return this.call(
      calls.updateFramework(
        id ? { ...frameworkInfo, id: { value: id } } : frameworkInfo,
        suppressedRoles,
      ),
    );
  };
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** An ERROR event carries only a message: what it means is read from the text. */
function classifyErrorEvent(text: string, masterUrl: string): MesosError {
  const message = `the master at ${masterUrl} ended the subscription: ${bodyExcerpt(text)}`;
  if (/failed over/i.test(text)) return new FrameworkFailedOverError(message);
  if (/has been removed|framework removed|torn down/i.test(text)) {
    return new FrameworkRemovedError(message);
  }
  return new SubscriptionRefusedError(message);
}

function describe(err: unknown): unknown {
  if (err instanceof Error) {
    return { type: err.name, message: err.message, code: (err as { code?: string }).code };
  }
  return err;
}
