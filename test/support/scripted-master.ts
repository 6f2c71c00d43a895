// A scripted stand-in for a Mesos master's /api/v1/scheduler endpoint. Tests decide, request
// by request, what goes back on the wire, byte for byte: status codes, headers, and RecordIO
// streams split into chunks wherever they like. Non-SUBSCRIBE calls are answered as Mesos
// does (400 without or with a stale Mesos-Stream-Id, else 202) unless a test claims them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { EventEmitter } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { encodeRecord } from "../../src/mesos/recordio.js";
import { withDeadline } from "./wait.js";

export interface Pending {
  req: IncomingMessage;
  res: ServerResponse;
  body: string;
  json: Record<string, unknown> & { type?: string };
  socket: Socket;
  headers: IncomingMessage["headers"];
}

export class StreamWriter {
  constructor(
    readonly res: ServerResponse,
    readonly streamId: string,
  ) {}

  /** Writes raw bytes as one HTTP chunk. */
  raw(bytes: Uint8Array | string): void {
    this.res.write(bytes);
  }

  /** Sends events as RecordIO, cut into chunks at the given byte offsets of the whole. */
  send(events: unknown[], cuts: number[] = []): void {
    const all = Buffer.concat(
      events.map((e) => encodeRecord(typeof e === "string" ? e : JSON.stringify(e))),
    );
    let pos = 0;
    for (const cut of [...cuts, all.length]) {
      if (cut > pos) this.res.write(all.subarray(pos, cut));
      pos = Math.max(pos, cut);
    }
  }

  end(): void {
    this.res.end();
  }

  /** Drops the TCP connection without a proper end of the chunked body. */
  destroy(): void {
    this.res.socket?.destroy();
  }
}

export class ScriptedMaster extends EventEmitter {
  readonly server: Server;
  readonly url: string;
  /** Stream id the master considers current (calls must carry it). */
  currentStreamId: string | undefined;
  /** Every non-SUBSCRIBE call answered automatically. */
  readonly calls: Pending[] = [];
  /** Every SUBSCRIBE received. */
  readonly subscribes: Pending[] = [];
  /** When set, non-SUBSCRIBE calls are queued for next() instead of answered. */
  holdCalls = false;
  private readonly queue: Pending[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(server: Server, url: string) {
    super();
    this.server = server;
    this.url = url;
  }

  static async start(host = "127.0.0.1"): Promise<ScriptedMaster> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const master = new ScriptedMaster(server, `http://${host}:${port}`);
    server.on("connection", (s) => {
      master.sockets.add(s);
      s.on("close", () => master.sockets.delete(s));
    });
    server.on("request", (req, res) => void master.onRequest(req, res));
    return master;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let json: Pending["json"] = {};
    try {
      json = JSON.parse(body) as Pending["json"];
    } catch {
      /* left empty: tests look at body */
    }
    const p: Pending = { req, res, body, json, socket: req.socket, headers: req.headers };
    if (json.type === "SUBSCRIBE") {
      this.subscribes.push(p);
      this.enqueue(p);
      return;
    }
    if (this.holdCalls) {
      this.enqueue(p);
      return;
    }
    this.calls.push(p);
    const sid = req.headers["mesos-stream-id"];
    if (!sid) {
      res.writeHead(400).end("Expecting 'Mesos-Stream-Id' header");
    } else if (sid !== this.currentStreamId) {
      res
        .writeHead(400)
        .end(
          `The stream ID '${String(sid)}' included in this request didn't match the stream ID currently associated with framework ID`,
        );
    } else {
      res.writeHead(202).end();
    }
    this.emit("call", p);
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    this.emit("queued");
  }

  /** The next request of the given type (SUBSCRIBE by default) not yet claimed. */
  async next(type = "SUBSCRIBE", timeoutMs = 5000): Promise<Pending> {
    const take = () => {
      const i = this.queue.findIndex((p) => p.json.type === type);
      return i >= 0 ? this.queue.splice(i, 1)[0] : undefined;
    };
    return withDeadline(
      new Promise<Pending>((resolve) => {
        const found = take();
        if (found) return resolve(found);
        const onQueued = () => {
          const p = take();
          if (p) {
            this.off("queued", onQueued);
            resolve(p);
          }
        };
        this.on("queued", onQueued);
      }),
      timeoutMs,
      `waiting for a ${type} request`,
    );
  }

  /** Answers a SUBSCRIBE with 200 and a chunked stream; the stream id becomes current. */
  openStream(p: Pending, streamId: string = randomUUID()): StreamWriter {
    p.res.writeHead(200, { "Content-Type": "application/json", "Mesos-Stream-Id": streamId });
    p.res.flushHeaders();
    this.currentStreamId = streamId;
    return new StreamWriter(p.res, streamId);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function subscribedEvent(frameworkId: string, heartbeatSeconds = 15): unknown {
  return {
    type: "SUBSCRIBED",
    subscribed: {
      framework_id: { value: frameworkId },
      heartbeat_interval_seconds: heartbeatSeconds,
      master_info: {
        id: "master-1",
        ip: 16777343,
        port: 5050,
        hostname: "127.0.0.1",
        address: { hostname: "127.0.0.1", ip: "127.0.0.1", port: 5050 },
      },
    },
  };
}
