// Raw-HTTP helpers for driving the simulated master like an independent client would:
// node:http requests, and a RecordIO reader written here (not the project's client).
import { request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { readFileSync, readdirSync } from "node:fs";

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | object } = {},
): Promise<Reply> {
  const u = new URL(url);
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === "string"
        ? opts.body
        : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname + u.search,
        method: opts.method ?? "POST",
        // An empty header value means "leave the header out".
        headers: Object.fromEntries(
          Object.entries({
            ...(body !== undefined && opts.method !== "GET"
              ? { "Content-Type": "application/json" }
              : {}),
            ...opts.headers,
          }).filter(([, v]) => v !== ""),
        ),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export type Ev = { type: string; [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A subscription stream read as RecordIO from raw bytes. */
export class Stream {
  events: Ev[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private buf = Buffer.alloc(0);
  constructor(
    readonly res: IncomingMessage,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
  ) {
    res.on("data", (c: Buffer) => this.push(c));
    res.on("end", () => this.finish());
    res.on("close", () => this.finish());
    res.on("error", () => this.finish());
  }

  get streamId(): string {
    return String(this.headers["mesos-stream-id"]);
  }

  private finish(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) break;
      const size = Number(this.buf.subarray(0, lf).toString("ascii"));
      if (this.buf.length < lf + 1 + size) break;
      const payload = this.buf.subarray(lf + 1, lf + 1 + size).toString("utf8");
      this.buf = this.buf.subarray(lf + 1 + size);
      this.events.push(JSON.parse(payload) as Ev);
    }
    this.notify();
  }

  /** Waits for the first event (from `from` on) matching `pred`; returns its index too. */
  async next(pred: (e: Ev) => boolean, timeoutMs = 10_000, from = 0): Promise<Ev> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(pred);
      if (found) return found;
      if (this.closed)
        throw new Error(`stream closed; events: ${this.events.map((e) => e.type).join(",")}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out; events: ${JSON.stringify(this.events.map((e) => e.type))}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("stream did not close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.res.destroy();
  }
}

export function openStream(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<Stream> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
        agent: false,
      },
      (res) => resolve(new Stream(res, res.statusCode ?? 0, res.headers)),
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

export const FRAMEWORK = {
  user: "tester",
  name: "sim-test",
  roles: ["storage"],
  checkpoint: true,
  failover_timeout: 60,
  capabilities: [
    { type: "MULTI_ROLE" },
    { type: "PARTITION_AWARE" },
    { type: "RESERVATION_REFINEMENT" },
  ],
};

/** A subscribed scheduler with helpers for calls on separate connections. */
export class Scheduler {
  frameworkId = "";
  constructor(
    readonly master: string,
    public stream: Stream,
    readonly headers: Record<string, string> = {},
  ) {}

  static async subscribe(
    master: string,
    info: object = FRAMEWORK,
    extra: { headers?: Record<string, string>; suppressed_roles?: string[] } = {},
  ): Promise<Scheduler> {
    const withId = info as { id?: { value: string } };
    const body = {
      type: "SUBSCRIBE",
      ...(withId.id ? { framework_id: withId.id } : {}),
      subscribe: {
        framework_info: info,
        ...(extra.suppressed_roles ? { suppressed_roles: extra.suppressed_roles } : {}),
      },
    };
    const stream = await openStream(`${master}/api/v1/scheduler`, body, extra.headers);
    const s = new Scheduler(master, stream, extra.headers);
    const sub = await stream.next((e) => e.type === "SUBSCRIBED" || e.type === "ERROR");
    if (sub.type === "SUBSCRIBED") s.frameworkId = sub.subscribed.framework_id.value;
    return s;
  }

  call(
    type: string,
    body?: object,
    opts: { streamId?: string | null; master?: string } = {},
  ): Promise<Reply> {
    const key = type.toLowerCase();
    const streamId = opts.streamId === undefined ? this.stream.streamId : opts.streamId;
    return http(`${opts.master ?? this.master}/api/v1/scheduler`, {
      headers: { ...this.headers, ...(streamId !== null ? { "Mesos-Stream-Id": streamId } : {}) },
      body: {
        framework_id: { value: this.frameworkId },
        type,
        ...(body !== undefined ? { [key]: body } : {}),
      },
    });
  }

  /** Offers received and not rescinded (whether used or not is the caller's business). */
  liveOffers(): Ev[] {
    const rescinded = new Set(
      this.stream.events.filter((e) => e.type === "RESCIND").map((e) => e.rescind.offer_id.value),
    );
    return this.stream.events
      .filter((e) => e.type === "OFFERS")
      .flatMap((e) => e.offers.offers as Ev[])
      .filter((o) => !rescinded.has(o.id.value));
  }

  /** Collects offers until every listed agent count is reached. */
  async offers(n: number, timeoutMs = 10_000, from = 0): Promise<Ev[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const offers = this.stream.events
        .slice(from)
        .filter((e) => e.type === "OFFERS")
        .flatMap((e) => e.offers.offers as Ev[]);
      const rescinded = new Set(
        this.stream.events.filter((e) => e.type === "RESCIND").map((e) => e.rescind.offer_id.value),
      );
      const live = offers.filter((o) => !rescinded.has(o.id.value));
      if (live.length >= n) return live;
      await this.stream
        .next(() => false, Math.max(1, Math.min(100, deadline - Date.now())))
        .catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`only ${live.length} of ${n} offers`);
    }
  }

  update(pred: (s: Ev) => boolean, timeoutMs = 10_000, from = 0): Promise<Ev> {
    return this.stream
      .next((e) => e.type === "UPDATE" && pred(e.update.status), timeoutMs, from)
      .then((e) => e.update.status);
  }

  /** Acknowledges every update of a task until a terminal one, which is returned. */
  async terminal(taskId: string, timeoutMs = 15_000, from = 0): Promise<Ev> {
    const terminal = [
      "TASK_FINISHED",
      "TASK_FAILED",
      "TASK_KILLED",
      "TASK_ERROR",
      "TASK_LOST",
      "TASK_DROPPED",
      "TASK_GONE",
      "TASK_GONE_BY_OPERATOR",
    ];
    const seen = new Set<string>();
    for (;;) {
      const u = await this.update(
        (x) => x.task_id.value === taskId && !seen.has(x.uuid ?? x.state),
        timeoutMs,
        from,
      );
      seen.add(u.uuid ?? u.state);
      await this.ack(u);
      if (terminal.includes(u.state)) return u;
    }
  }

  async ack(status: Ev): Promise<void> {
    if (!status.uuid) return;
    const r = await this.call("ACKNOWLEDGE", {
      agent_id: status.agent_id,
      task_id: status.task_id,
      uuid: status.uuid,
    });
    if (r.status !== 202) throw new Error(`ack: ${r.status} ${r.body}`);
  }

  close(): void {
    this.stream.close();
  }
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every process below `root` (children, their children...), from /proc. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) {
      if (pp !== p) continue;
      out.push(pid);
      walk(pid);
    }
  };
  walk(root);
  return out;
}

/** Whether a process runs (a zombie, dead but not yet reaped, does not count). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
