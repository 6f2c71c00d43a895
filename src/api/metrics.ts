// Prometheus metrics of the scheduler (prom-client, one registry per scheduler so tests can
// run several). Counters are fed by wrapping the Mesos client's accept/decline and the
// store's writes; gauges (plans, steps, capacity, health) are read from the operator view
// when scraped. No label ever carries a secret: labels are ids, states and kinds.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { OperatorView } from "../framework/operator-view.js";
import { registerHealthMetrics, type HealthMetricsSource } from "./health-metrics.js";
import type { EventStreams } from "./event-streams.js";
import { StoreError, type StateStore } from "../store/store.js";
import type { Offer, OfferID, Operation, TaskStatus } from "../mesos/types/common.js";

const P = "scaleio_framework_";
const HEALTHS = ["healthy", "deploying", "degraded", "critical", "unknown"] as const;
const STATUSES = ["PENDING", "IN_PROGRESS", "COMPLETE", "ERROR", "WAITING"] as const;

/** The parts of the Mesos scheduler client that are counted. */
export interface CountedClient {
  on(event: "offers", fn: (offers: Offer[]) => void): unknown;
  on(event: "update", fn: (status: TaskStatus) => void): unknown;
  accept(offerIds: OfferID[], operations: Operation[], filters?: unknown): Promise<void>;
  decline(offerIds: OfferID[], filters?: unknown): Promise<void>;
}

export class Metrics {
  readonly registry = new Registry();
  private view: OperatorView | undefined;
  private storeFailing = false;
  private streams: EventStreams | undefined;
  private readonly refusedConnections: Counter;
  private readonly offersReceived: Counter;
  private readonly offersAccepted: Counter;
  private readonly offersDeclined: Counter;
  private readonly operations: Counter<"type">;
  private readonly taskUpdates: Counter<"state">;
  private readonly storeWrites: Histogram;

  // prom-client's default process metrics are left out: some of their names fail promtool's lint.
  constructor() {
    const registers = [this.registry];
    this.offersReceived = new Counter({
      name: `${P}offers_received_total`,
      help: "Resource offers received from Mesos",
      registers,
    });
    this.offersAccepted = new Counter({
      name: `${P}offers_accepted_total`,
      help: "Offers accepted (with operations)",
      registers,
    });
    this.offersDeclined = new Counter({
      name: `${P}offers_declined_total`,
      help: "Offers declined",
      registers,
    });
    this.operations = new Counter({
      name: `${P}operations_total`,
      help: "Offer operations sent to Mesos, by type",
      labelNames: ["type"],
      registers,
    });
    this.taskUpdates = new Counter({
      name: `${P}task_status_updates_total`,
      help: "Task status updates received, by task state",
      labelNames: ["state"],
      registers,
    });
    this.storeWrites = new Histogram({
      name: `${P}store_write_seconds`,
      help: "Latency of state store writes",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.refusedConnections = new Counter({
      name: `${P}http_connections_refused_total`,
      help: "Connections to the API closed at once because the connection cap was reached",
      registers,
    });
    registerHealthMetrics(this.registry, () => this.healthSource());
    // Gauges' collect() gets the gauge as `this`; the view is read through a closure.
    const view = () => this.view;
    const streams = () => this.streams?.stats();
    new Gauge({
      name: `${P}event_stream_clients`,
      help: "Event-stream (SSE) clients connected",
      registers,
      collect() {
        this.set(streams()?.clients.length ?? 0);
      },
    });
    new Gauge({
      name: `${P}event_stream_buffered_bytes`,
      help: "Bytes written to event-stream clients and not yet sent, all clients together",
      registers,
      collect() {
        this.set(streams()?.clients.reduce((n, c) => n + c.bufferedBytes, 0) ?? 0);
      },
    });
    new Counter({
      name: `${P}event_stream_clients_dropped_total`,
      help: "Event-stream clients disconnected for falling behind (they reconnect and replay)",
      registers,
      collect() {
        this.reset();
        this.inc(streams()?.dropped ?? 0);
      },
    });
    new Gauge({
      name: `${P}subscribed`,
      help: "1 while subscribed to Mesos",
      registers,
      collect() {
        this.set(view()?.source.subscribed ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}plan_status`,
      help: "1 for the current status of each plan",
      labelNames: ["plan", "status"],
      registers,
      collect() {
        this.reset();
        for (const p of view()?.plans() ?? [])
          for (const s of STATUSES) this.set({ plan: p.id, status: s }, p.status === s ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}plan_steps`,
      help: "Steps of each plan, by step status",
      labelNames: ["plan", "status"],
      registers,
      collect() {
        this.reset();
        for (const p of view()?.plans() ?? []) {
          const steps = p.phases.flatMap((ph) => ph.steps);
          for (const s of STATUSES.filter((x) => x !== "WAITING"))
            this.set({ plan: p.id, status: s }, steps.filter((st) => st.status === s).length);
        }
      },
    });
    new Gauge({
      name: `${P}platform_capacity_bytes`,
      help: "Capacity of the storage platform (raw, usable, free), as last observed",
      labelNames: ["kind"],
      registers,
      collect() {
        this.reset();
        const c = view()?.summary().cluster?.capacity;
        if (!c) return;
        this.set({ kind: "raw" }, c.rawBytes);
        this.set({ kind: "usable" }, c.usableBytes);
        this.set({ kind: "free" }, c.freeBytes);
      },
    });
    new Gauge({
      name: `${P}platform_health`,
      help: "1 for the current health of the storage platform",
      labelNames: ["health"],
      registers,
      collect() {
        const h = view()?.summary().health ?? "unknown";
        for (const x of HEALTHS) this.set({ health: x }, h === x ? 1 : 0);
      },
    });
  }

  /** Gauges read the operator view when scraped. */
  /** What the health gauges read, from the bound view. */
  private healthSource(): HealthMetricsSource | undefined {
    const view = this.view;
    if (!view) return undefined;
    return {
      report: () => view.healthReport(),
      pools: () =>
        (view.source.platform.pools?.() ?? []).map((p) => ({
          pool: p.object,
          usedRatio: p.usedPercent / 100,
          rebuildProgress: p.rebuild ? p.rebuild.progressPercent / 100 : 1,
        })),
      storeFailing: () => this.storeFailing,
      failingSteps: () => {
        const now = Date.now();
        return view.plans().flatMap((p) =>
          p.phases.flatMap((ph) =>
            ph.steps
              .filter((st) => st.status === "ERROR")
              .map((st) => ({
                plan: p.id,
                step: st.id,
                seconds: Math.max(0, (now - (st.failingSince ?? st.updatedAt)) / 1000),
              })),
          ),
        );
      },
    };
  }

  bindView(view: OperatorView): void {
    this.view = view;
  }

  /** Event-stream gauges read these streams when scraped. */
  bindEventStreams(streams: EventStreams): void {
    this.streams = streams;
  }

  /** A connection refused by the connection cap. */
  countRefusedConnection(): void {
    this.refusedConnections.inc();
  }

  /** Counts offers, accepts (and their operations), declines and task updates. */
  countClient(client: CountedClient): void {
    client.on("offers", (offers) => this.offersReceived.inc(offers.length));
    client.on("update", (s) => this.taskUpdates.inc({ state: s.state }));
    const accept = client.accept.bind(client);
    const decline = client.decline.bind(client);
    client.accept = async (ids, ops, filters) => {
      await accept(ids, ops, filters);
      this.offersAccepted.inc(ids.length);
      for (const op of ops) this.operations.inc({ type: op.type ?? "UNKNOWN" });
    };
    client.decline = async (ids, filters) => {
      await decline(ids, filters);
      this.offersDeclined.inc(ids.length);
    };
  }

  /** Whether the last write of the timed store failed for the store's sake. */
  get storeWritesFailing(): boolean {
    return this.storeFailing;
  }

  /**
   * Times every write of the store (set, delete, compare-and-set, commits) and remembers
   * whether the last one failed for the store's sake (/health reports it). A conflict, a
   * fenced write or a bad key is the caller's answer, not a failing store.
   */
  timeStore<S extends StateStore>(store: S): S {
    const timed =
      <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const end = this.storeWrites.startTimer();
        try {
          const out = await write(...args);
          this.storeFailing = false;
          return out;
        } catch (err) {
          if (storeItselfFailed(err)) this.storeFailing = true;
          throw err;
        } finally {
          end();
        }
      };
    const writes: Partial<StateStore> = {
      set: timed(store.set.bind(store)),
      delete: timed(store.delete.bind(store)),
      setIf: timed(store.setIf.bind(store)),
      deleteIf: timed(store.deleteIf.bind(store)),
      commit: timed(store.commit.bind(store)),
    };
    // A view of the store, not a patch of it: the store's own calls between its methods (a
    // `set` made of a commit) stay untimed, so each write is counted once.
    return new Proxy(store, {
      get(target, key) {
        if (Object.hasOwn(writes, key)) return writes[key as keyof StateStore];
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Whether a write failed because of the store (down, full, unreadable), not the request. */
function storeItselfFailed(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return !(err instanceof StoreError) || !ANSWERS.has(String(code));
}

/** Store error codes that answer the request and say nothing of the store's health. */
const ANSWERS = new Set(["CONFLICT", "FENCED", "BAD_KEY", "BAD_OP", "BAD_VALUE"]);
