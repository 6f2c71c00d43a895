// The event stream (server-sent events) and the recent events as JSON. A reconnecting
// client sends Last-Event-ID and gets what the buffer still holds after it; `?history=N`
// replays the newest N first. Comment lines keep proxies from closing an idle stream.
import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import type { ServerResponse } from "node:http";
import type { EventHub, OperatorEvent } from "../../framework/events.js";
import { ApiError } from "../errors.js";

export interface EventRouteOptions {
  keepAliveMs?: number;
}

const RECENT_MAX = 500;

function frame(e: OperatorEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

function nonNegativeInt(v: unknown, what: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  const s = String(v);
  if (!/^\d{1,9}$/.test(s)) throw new ApiError(400, `${what} must be a non-negative integer`);
  return Number(s);
}

export function eventRoutes(
  app: FastifyInstance,
  hub: EventHub,
  guards: { read: preHandlerAsyncHookHandler[] },
  opts: EventRouteOptions = {},
): void {
  const open = new Set<ServerResponse>();
  // Streams never end by themselves: close them so the server can stop.
  app.addHook("preClose", async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get<{ Querystring: { n?: string } }>(
    "/v1/events/recent",
    { preHandler: guards.read },
    async (req) => ({
      events: hub.recent(Math.min(RECENT_MAX, nonNegativeInt(req.query.n, "n") ?? RECENT_MAX)),
    }),
  );

  app.get<{ Querystring: { history?: string } }>(
    "/v1/events",
    { preHandler: guards.read },
    async (req, reply) => {
      const history = nonNegativeInt(req.query.history, "history");
      const lastHeader = req.headers["last-event-id"];
      const lastId = nonNegativeInt(
        Array.isArray(lastHeader) ? lastHeader[0] : lastHeader,
        "Last-Event-ID",
      );
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      open.add(res);
      // Subscribe before replaying so nothing falls between the two.
      const queued: OperatorEvent[] = [];
      let replaying = true;
      let sentUpTo = 0;
      const send = (e: OperatorEvent) => {
        if (e.id <= sentUpTo) return;
        sentUpTo = e.id;
        res.write(frame(e));
      };
      const onEvent = (e: OperatorEvent) => (replaying ? queued.push(e) : send(e));
      hub.on("event", onEvent);
      res.write(": connected\n\n");
      const backlog =
        lastId !== undefined
          ? hub.since(lastId)
          : history !== undefined
            ? hub.recent(Math.min(history, RECENT_MAX))
            : [];
      for (const e of backlog) send(e);
      replaying = false;
      for (const e of queued.splice(0)) send(e);
      const keepAlive = setInterval(
        () => res.write(": keep-alive\n\n"),
        opts.keepAliveMs ?? 15_000,
      );
      const cleanup = () => {
        clearInterval(keepAlive);
        hub.off("event", onEvent);
        open.delete(res);
      };
      res.on("close", cleanup);
      res.on("error", cleanup);
    },
  );
}
