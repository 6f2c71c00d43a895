// The event stream (server-sent events) and the recent events as JSON. A reconnecting
// client sends Last-Event-ID and gets what the buffer still holds after it; `?history=N`
// replays the newest N first. Comment lines keep proxies from closing an idle stream.
import type { FastifyInstance } from "fastify";
import type { EventHub } from "../../framework/events.js";
import type { Guard } from "../auth.js";
import { ApiError } from "../errors.js";
import { EventStreams } from "../event-streams.js";

export interface EventRouteOptions {
  keepAliveMs?: number;
  /** The open streams and their buffers (default: a new registry). */
  streams?: EventStreams;
}

const RECENT_MAX = 500;

function nonNegativeInt(v: unknown, what: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  const s = String(v);
  if (!/^\d{1,9}$/.test(s)) throw new ApiError(400, `${what} must be a non-negative integer`);
  return Number(s);
}

export function eventRoutes(
  app: FastifyInstance,
  hub: EventHub,
  guards: { read: Guard[] },
  opts: EventRouteOptions = {},
): void {
  const streams = opts.streams ?? new EventStreams();
  // Streams never end by themselves: close them so the server can stop.
  app.addHook("preClose", async () => streams.closeAll());

  app.get<{ Querystring: { n?: string } }>(
    "/v1/events/recent",
    { onRequest: guards.read },
    async (req) => ({
      events: hub.recent(Math.min(RECENT_MAX, nonNegativeInt(req.query.n, "n") ?? RECENT_MAX)),
    }),
  );

  app.get<{ Querystring: { history?: string } }>(
    "/v1/events",
    { onRequest: guards.read },
    async (req, reply) => {
      const history = nonNegativeInt(req.query.history, "history");
      const lastHeader = req.headers["last-event-id"];
      const lastId = nonNegativeInt(
        Array.isArray(lastHeader) ? lastHeader[0] : lastHeader,
        "Last-Event-ID",
      );
      // Where the stream starts: after the id the client last saw, before the newest N, or now.
      let afterId = hub.latestId;
      // An id this hub never gave out comes from a previous scheduler process: all it kept.
      if (lastId !== undefined) afterId = lastId > hub.latestId ? 0 : lastId;
      else if (history !== undefined) {
        const first = hub.recent(Math.min(history, RECENT_MAX))[0];
        if (first) afterId = first.id - 1;
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(": connected\n\n");
      streams.attach(res, hub, {
        afterId,
        remote: `${req.ip}:${req.socket.remotePort ?? "?"}`,
        keepAliveMs: opts.keepAliveMs ?? 15_000,
      });
    },
  );
}
