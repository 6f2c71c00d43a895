// The open event streams and what each still holds in memory. A client is written to while
// what it has not taken yet stays under a bound (default 1 MiB: a burst of events in one go
// fits); past it, nothing more is queued for it until its socket drains, and it then gets what
// the hub kept since the last event it was sent (a plan, node or summary replaced meanwhile by
// a newer one comes once, the newest). So a slow client holds at most the bound and one frame,
// not every event since it stalled. A client that falls behind what the hub keeps is
// disconnected (it reconnects with Last-Event-ID and gets what the hub still has).
import type { ServerResponse } from "node:http";
import type { EventHub, OperatorEvent } from "../framework/events.js";

export interface EventStreamClientStats {
  remote: string;
  /** Bytes written to this client and not yet taken by the kernel. */
  bufferedBytes: number;
  /** The most this client ever held. */
  peakBufferedBytes: number;
  /** The id of the newest event sent to it. */
  sentUpTo: number;
  /** Over the bound: waiting for its socket to drain. */
  behind: boolean;
}

export interface EventStreamStats {
  clients: EventStreamClientStats[];
  /** Clients disconnected for falling behind, since the server started. */
  dropped: number;
  /** The most any client ever held. */
  peakBufferedBytes: number;
  /** The largest frame written (one event). */
  largestFrameBytes: number;
  /** A client holds at most this and one frame. */
  maxBufferedBytes: number;
}

export interface EventStreamsOptions {
  /** Bytes a client may leave untaken before nothing more is queued for it (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Told of every client disconnected for falling behind. */
  onDrop?: (remote: string, reason: string) => void;
}

// One frame per event, shared by every client (a plan view is large, and each client would
// otherwise serialise it again).
const frames = new WeakMap<OperatorEvent, string>();
function frameOf(e: OperatorEvent): string {
  let f = frames.get(e);
  if (f === undefined) {
    f = `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
    frames.set(e, f);
  }
  return f;
}

export class EventStreams {
  private readonly open = new Set<EventStreamClient>();
  private readonly opts: EventStreamsOptions;
  private droppedCount = 0;
  private peak = 0;
  private largestFrame = 0;
  readonly maxBufferedBytes: number;

  constructor(opts: EventStreamsOptions = {}) {
    this.opts = opts;
    // Above a socket's own high-water mark, so that 'drain' always follows.
    this.maxBufferedBytes = Math.max(64 * 1024, opts.maxBufferedBytes ?? 1024 * 1024);
  }

  /**
   * Starts streaming to `res` (headers already sent): what the hub kept after `afterId`
   * first, then live events.
   */
  attach(
    res: ServerResponse,
    hub: EventHub,
    opts: { afterId: number; remote: string; keepAliveMs: number },
  ): EventStreamClient {
    const client = new EventStreamClient(this, res, hub, opts.afterId, opts.remote);
    this.open.add(client);
    client.start(opts.keepAliveMs);
    return client;
  }

  stats(): EventStreamStats {
    return {
      clients: [...this.open].map((c) => c.stats()),
      dropped: this.droppedCount,
      peakBufferedBytes: this.peak,
      largestFrameBytes: this.largestFrame,
      maxBufferedBytes: this.maxBufferedBytes,
    };
  }

  /** Ends every stream (the server is stopping). */
  closeAll(): void {
    for (const c of this.open) c.end();
    this.open.clear();
  }

  /** @internal */
  forget(client: EventStreamClient): void {
    this.open.delete(client);
  }

  /** @internal */
  noteWrite(frameBytes: number, bufferedBytes: number): void {
    if (frameBytes > this.largestFrame) this.largestFrame = frameBytes;
    if (bufferedBytes > this.peak) this.peak = bufferedBytes;
  }

  /** @internal */
  noteDrop(remote: string, reason: string): void {
    this.droppedCount += 1;
    this.opts.onDrop?.(remote, reason);
  }
}

export class EventStreamClient {
  private sentUpTo: number;
  private behind = false;
  private peak = 0;
  private closed = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Events the hub had already let go of when this client came (a late reconnect): not its fault. */
  private readonly evictedAtStart: number;
  private readonly onEvent = (e: OperatorEvent) => {
    if (this.behind) this.checkLag();
    else this.send(e);
  };
  private readonly onDrain = () => {
    this.behind = false;
    this.catchUp();
  };

  constructor(
    private readonly streams: EventStreams,
    private readonly res: ServerResponse,
    private readonly hub: EventHub,
    afterId: number,
    private readonly remote: string,
  ) {
    this.sentUpTo = afterId;
    this.evictedAtStart = hub.evictedUpTo;
  }

  start(keepAliveMs: number): void {
    this.keepAliveTimer = setInterval(() => this.keepAlive(), keepAliveMs);
    this.hub.on("event", this.onEvent);
    this.res.on("drain", this.onDrain);
    const cleanup = () => this.cleanup();
    this.res.on("close", cleanup);
    this.res.on("error", cleanup);
    this.catchUp();
  }

  /** A comment line so proxies keep an idle stream open (skipped while the client lags). */
  keepAlive(): void {
    if (!this.behind && !this.closed) this.write(": keep-alive\n\n");
  }

  end(): void {
    this.cleanup();
    this.res.end();
  }

  stats(): EventStreamClientStats {
    return {
      remote: this.remote,
      bufferedBytes: this.res.writableLength,
      peakBufferedBytes: this.peak,
      sentUpTo: this.sentUpTo,
      behind: this.behind,
    };
  }

  /** Everything the hub kept after the last event sent, until the socket is full. */
  private catchUp(): void {
    if (this.checkLag()) return;
    for (const e of this.hub.since(this.sentUpTo)) {
      this.send(e);
      if (this.behind || this.closed) return;
    }
  }

  private send(e: OperatorEvent): void {
    if (e.id <= this.sentUpTo || this.closed) return;
    this.sentUpTo = e.id;
    this.write(frameOf(e));
  }

  private write(text: string): void {
    this.res.write(text);
    const buffered = this.res.writableLength;
    // Over the bound (so over the socket's high-water mark too): wait for 'drain'.
    if (buffered > this.streams.maxBufferedBytes) this.behind = true;
    if (buffered > this.peak) this.peak = buffered;
    this.streams.noteWrite(Buffer.byteLength(text), buffered);
  }

  /** Disconnects the client if the hub let go of events it was never sent. */
  private checkLag(): boolean {
    const evicted = this.hub.evictedUpTo;
    if (evicted <= this.sentUpTo || evicted <= this.evictedAtStart || this.closed) return false;
    this.streams.noteDrop(
      this.remote,
      `fell behind: sent up to event ${this.sentUpTo}, the oldest kept is after ${evicted}`,
    );
    this.cleanup();
    this.res.destroy();
    return true;
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAliveTimer);
    this.hub.off("event", this.onEvent);
    this.res.off("drain", this.onDrain);
    this.streams.forget(this);
  }
}
