// A scripted Mesos agent for executor-client tests: serves POST /api/v1/executor on
// 127.0.0.1 (ephemeral port) and speaks the documented protocol byte for byte
// (reference sections 1 and 6): chunked RecordIO streams, the validation and status codes
// of 6.2/6.4. Tests drive the stream explicitly (send events, raw bytes, split chunks).
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeRecord } from "../../src/mesos/recordio.js";

export interface ScriptedAgentOptions {
  frameworkId?: string;
  executorId?: string;
  /** When set, every call needs `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Framework capabilities reported in SUBSCRIBED.framework_info. */
  capabilities?: string[];
  /** Send ACKNOWLEDGED on the live stream for every accepted UPDATE. */
  autoAck?: boolean;
  /** Send SUBSCRIBED at once on every accepted SUBSCRIBE (default true). */
  autoSubscribed?: boolean;
}

export interface RecordedCall {
  /** `type` of the call, or "" when the body was not a call. */
  type: string;
  // Tests inspect call bodies freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: IncomingMessage["headers"];
  /** Status the agent answered. */
  status: number;
  /** What the agent said in the body of a non-2xx answer. */
  answer: string;
  at: number;
}

export interface ForcedAnswer {
  type: string;
  /** 0 destroys the connection without an answer. */
  status: number;
  body?: string;
  /** How many calls of that type get it (default 1). */
  times?: number;
}

/** One open SUBSCRIBE response: the executor's event stream. */
export class AgentStream {
  readonly closed: Promise<void>;
  private ended = false;

  constructor(private readonly res: ServerResponse) {
    this.closed = new Promise((resolve) => res.once("close", () => resolve()));
    res.once("close", () => (this.ended = true));
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Writes one event as a RecordIO record, in one write. */
  async send(event: object): Promise<void> {
    await this.sendRaw(encodeRecord(JSON.stringify(event)));
  }

  /** Writes bytes as is, cut at the given offsets into separate writes (HTTP chunks). */
  async sendRaw(bytes: Buffer | string, cuts: number[] = []): Promise<void> {
    const buf = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    let from = 0;
    for (const cut of [
      ...cuts.filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b),
      buf.length,
    ]) {
      if (this.ended) return;
      this.res.write(buf.subarray(from, cut));
      from = cut;
      // Let the socket flush so each piece tends to travel in its own TCP segment.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Ends the stream cleanly (last chunk). */
  end(): void {
    if (!this.ended) this.res.end();
  }

  /** Drops the connection abruptly, as a dying agent does. */
  destroy(): void {
    this.res.destroy();
  }
}

const ACCEPTABLE = /(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/;

function isStatusUuid(text: unknown): boolean {
  return (
    typeof text === "string" &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(text) &&
    text.length % 4 === 0 &&
    Buffer.from(text, "base64").length === 16
  );
}

export class ScriptedAgent extends EventEmitter {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly calls: RecordedCall[] = [];
  readonly streams: AgentStream[] = [];
  /** Calls still to be answered 503 (the agent is recovering); Infinity for "forever". */
  unavailable = 0;
  readonly forced: ForcedAnswer[] = [];
  /** Accepted UPDATE statuses, in arrival order. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly updates: any[] = [];
  private readonly server: Server;
  private readonly opts: ScriptedAgentOptions;
  port = 0;

  private constructor(opts: ScriptedAgentOptions) {
    super();
    this.opts = opts;
    this.frameworkId = opts.frameworkId ?? "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-0007";
    this.executorId = opts.executorId ?? "bs-exec-node-a";
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (socket) => socket.setNoDelay(true));
  }

  static async start(opts: ScriptedAgentOptions = {}): Promise<ScriptedAgent> {
    const agent = new ScriptedAgent(opts);
    await new Promise<void>((resolve, reject) => {
      agent.server.once("error", reject);
      agent.server.listen(0, "127.0.0.1", () => resolve());
    });
    agent.port = (agent.server.address() as AddressInfo).port;
    return agent;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The live event stream (the latest accepted SUBSCRIBE). */
  get stream(): AgentStream | undefined {
    const s = this.streams.at(-1);
    return s?.isOpen ? s : undefined;
  }

  callsOf(type: string): RecordedCall[] {
    return this.calls.filter((c) => c.type === type);
  }

  /** Resolves with the first recorded call (past or future) matching `pred`. */
  waitForCall(pred: (c: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    const found = this.calls.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("call", onCall);
        reject(new Error(`scripted agent: no matching call within ${timeoutMs} ms`));
      }, timeoutMs);
      const onCall = (c: RecordedCall) => {
        if (!pred(c)) return;
        clearTimeout(timer);
        this.off("call", onCall);
        resolve(c);
      };
      this.on("call", onCall);
    });
  }

  /** Resolves once the `n`-th (1-based) subscription was accepted and SUBSCRIBED sent on it. */
  async waitForStream(n = 1, timeoutMs = 5000): Promise<AgentStream> {
    const accepted = () => this.callsOf("SUBSCRIBE").filter((c) => c.status === 200).length;
    await this.waitForCall(() => accepted() >= n, timeoutMs);
    return this.streams[n - 1]!;
  }

  /** Agent restart: drop the live stream abruptly and answer 503 to the next `calls` calls. */
  restart(calls: number): void {
    this.unavailable = calls;
    for (const s of this.streams) if (s.isOpen) s.destroy();
  }

  subscribedEvent(): object {
    return {
      type: "SUBSCRIBED",
      subscribed: {
        executor_info: {
          type: "CUSTOM",
          executor_id: { value: this.executorId },
          framework_id: { value: this.frameworkId },
          command: { shell: false, value: "./bs-executor", arguments: ["bs-executor"] },
          shutdown_grace_period: { nanoseconds: 5000000000 },
        },
        framework_info: {
          user: "root",
          name: "blockstore",
          id: { value: this.frameworkId },
          checkpoint: true,
          failover_timeout: 604800,
          capabilities: (this.opts.capabilities ?? []).map((type) => ({ type })),
        },
        agent_info: {
          hostname: "node-a.example.net",
          port: this.port,
          id: { value: "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-S3" },
        },
        container_id: { value: "0f6c2d7e-41b8-4a5a-b1b0-9d4c3e2a1f77" },
      },
    };
  }

  async close(): Promise<void> {
    for (const s of this.streams) if (s.isOpen) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- protocol ----------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      const record = (type: string, body: unknown, status: number, answer = "") => {
        const call: RecordedCall = {
          type,
          body,
          headers: req.headers,
          status,
          answer,
          at: Date.now(),
        };
        this.calls.push(call);
        // After the answer is on its way, so a test waiting on it sees a consistent agent.
        queueMicrotask(() => this.emit("call", call));
      };
      const reply = (type: string, body: unknown, status: number, message = "") => {
        const headers: Record<string, string> =
          status === 405 ? { allow: "POST" } : message ? { "content-type": "text/plain" } : {};
        res.writeHead(status, headers);
        res.end(message);
        record(type, body, status, message);
      };
      if (req.method !== "POST") return reply("", undefined, 405);
      if (req.url !== "/api/v1/executor") return reply("", undefined, 404);
      const auth = req.headers.authorization;
      if (this.opts.token !== undefined && auth !== `Bearer ${this.opts.token}`) {
        return reply("", undefined, 401, "Unauthorized");
      }
      const ctype = req.headers["content-type"];
      if (ctype === undefined)
        return reply("", undefined, 400, "Expecting 'Content-Type' to be present");
      if (ctype !== "application/json") return reply("", undefined, 415, `Unsupported '${ctype}'`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let call: any;
      try {
        call = JSON.parse(text);
      } catch (err) {
        return reply(
          "",
          undefined,
          400,
          `Failed to parse body into JSON: ${(err as Error).message}`,
        );
      }
      const type = typeof call?.type === "string" ? call.type : "";
      if (!["SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT"].includes(type)) {
        return reply(
          type,
          call,
          type === "UNKNOWN" ? 501 : 400,
          "Failed to validate executor::Call: unknown type",
        );
      }
      const forced = this.forced.find((f) => f.type === type);
      if (forced) {
        forced.times = (forced.times ?? 1) - 1;
        if (forced.times <= 0) this.forced.splice(this.forced.indexOf(forced), 1);
        if (forced.status === 0) {
          // A connection that dies before any answer.
          record(type, call, 0, "connection destroyed");
          res.socket?.destroy();
          return;
        }
        return reply(type, call, forced.status, forced.body ?? "");
      }
      if (type === "HEARTBEAT") return reply(type, call, 202);
      if (this.unavailable > 0) {
        this.unavailable -= 1;
        return reply(type, call, 503, "Agent has not finished recovery");
      }
      if (
        call.executor_id?.value !== this.executorId ||
        call.framework_id?.value !== this.frameworkId
      ) {
        return reply(type, call, 400, "Executor or framework unknown to the agent");
      }
      if (type === "SUBSCRIBE") return this.subscribe(req, res, call, reply, record);
      if (!this.stream) return reply(type, call, 403, "Executor is not subscribed");
      if (type === "UPDATE") {
        const problem = this.checkStatus(call.update?.status, call.executor_id.value);
        if (problem) return reply(type, call, 400, `Failed to validate executor::Call: ${problem}`);
        this.updates.push(call.update.status);
        reply(type, call, 202);
        if (this.opts.autoAck) {
          const s = call.update.status;
          void this.stream.send({
            type: "ACKNOWLEDGED",
            acknowledged: { task_id: s.task_id, uuid: s.uuid },
          });
        }
        return;
      }
      // MESSAGE
      if (typeof call.message?.data !== "string") {
        return reply(type, call, 400, "Expecting 'message.data' to be present");
      }
      return reply(type, call, 202);
    });
  }

  private subscribe(
    req: IncomingMessage,
    res: ServerResponse,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    call: any,
    reply: (type: string, body: unknown, status: number, message?: string) => void,
    record: (type: string, body: unknown, status: number) => void,
  ): void {
    const accept = req.headers.accept;
    if (accept !== undefined && !ACCEPTABLE.test(accept)) {
      return reply("SUBSCRIBE", call, 406, "Unacceptable Accept");
    }
    const sub = call.subscribe;
    if (typeof sub !== "object" || sub === null) {
      return reply("SUBSCRIBE", call, 400, "Expecting 'subscribe' to be present");
    }
    for (const u of sub.unacknowledged_updates ?? []) {
      const problem = this.checkStatus(u?.status, call.executor_id.value);
      if (problem)
        return reply("SUBSCRIBE", call, 400, `Invalid unacknowledged update: ${problem}`);
    }
    for (const t of sub.unacknowledged_tasks ?? []) {
      if (typeof t?.task_id?.value !== "string" || typeof t?.name !== "string") {
        return reply("SUBSCRIBE", call, 400, "Invalid unacknowledged task");
      }
    }
    // One subscription per executor: a new one replaces the old stream.
    for (const s of this.streams) if (s.isOpen) s.end();
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    const stream = new AgentStream(res);
    this.streams.push(stream);
    if (this.opts.autoSubscribed !== false) {
      void stream.send(this.subscribedEvent()).then(() => record("SUBSCRIBE", call, 200));
    } else {
      record("SUBSCRIBE", call, 200);
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private checkStatus(status: any, executorId: string): string | undefined {
    if (typeof status !== "object" || status === null) return "'status' is missing";
    if (typeof status.task_id?.value !== "string") return "'status.task_id' is missing";
    if (!isStatusUuid(status.uuid)) return "'status.uuid' must be 16 bytes";
    if (status.source !== "SOURCE_EXECUTOR") return "'status.source' must be SOURCE_EXECUTOR";
    if (status.state === "TASK_STAGING") return "'status.state' must not be TASK_STAGING";
    if (typeof status.state !== "string") return "'status.state' is missing";
    if (status.executor_id !== undefined && status.executor_id.value !== executorId) {
      return "'status.executor_id' does not match";
    }
    return undefined;
  }
}
