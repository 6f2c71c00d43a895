// One listening socket for the whole life of a scheduler that stands by and then leads. The
// standby's API answers on it until the full API is ready, then the full API does: the port
// is never closed in between (clients and Marathon's health checks never meet a refused
// connection at a failover), and no other process can take the port between the two.
//
// Each API is a Fastify instance given `serverFactory` from adopt(): Fastify then routes
// through the handler it hands the factory, and this module decides which instance's handler
// the socket's requests reach. A connection kept alive across the switch sends its next
// request to the new API.
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { applyServerLimits, type HttpLimits } from "../api/http-limits.js";

export interface HandoverListenerOptions {
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The API's HTTP limits, applied once to the one server (Fastify cannot: not its server). */
  limits: HttpLimits;
}

/** An API taking its turn on the listener. */
export interface Adoption {
  /** For Fastify's `serverFactory` option. */
  serverFactory: (handler: RequestListener) => Server;
  /** From now on this API answers every request (call once the instance is ready). */
  activate(): void;
}

export class HandoverListener {
  readonly server: Server;
  /** Called when a connection is refused over the connection cap (the API's metrics count it). */
  onRefused: (() => void) | undefined;
  private current: RequestListener | undefined;

  constructor(opts: HandoverListenerOptions) {
    const dispatch: RequestListener = (req, res) => {
      if (this.current) return this.current(req, res);
      // Listening before any API is ready does not happen in use; answer plainly if it does.
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ error: "starting" }));
    };
    const l = opts.limits;
    const server = opts.tls ? createHttpsServer(opts.tls, dispatch) : createHttpServer(dispatch);
    this.server = server as unknown as Server;
    // What Fastify sets on a server it creates itself.
    this.server.timeout = l.idleTimeoutMs;
    this.server.keepAliveTimeout = l.keepAliveTimeoutMs;
    this.server.requestTimeout = l.requestTimeoutMs;
    this.server.maxRequestsPerSocket = l.maxRequestsPerSocket;
    applyServerLimits(this.server, l, () => this.onRefused?.());
  }

  /** A turn for one API instance; its handler answers once it is activated. */
  adopt(): Adoption {
    let handler: RequestListener | undefined;
    return {
      serverFactory: (h) => {
        handler = h;
        return this.server;
      },
      activate: () => {
        if (!handler) throw new Error("activate() before the API was built with serverFactory");
        this.current = handler;
        // Each Fastify instance adds its own clientError handler to the server: only one may
        // answer a malformed request, or two would write to the same socket.
        this.server.removeAllListeners("clientError");
        this.server.on("clientError", badRequest);
      },
    };
  }

  /** Listens; resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      this.server.once("error", failed);
      this.server.listen({ host, port }, () => {
        this.server.off("error", failed);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /**
   * Stops listening and ends idle connections at once, and any still busy (an event stream)
   * after `graceMs`; resolves once every connection is gone.
   */
  close(graceMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.server.listening) return resolve();
      const late = setTimeout(() => this.server.closeAllConnections(), graceMs);
      late.unref();
      this.server.close((err) => {
        clearTimeout(late);
        if (err) reject(err);
        else resolve();
      });
      this.server.closeIdleConnections();
    });
  }
}

/** What Node's HTTP server answers a malformed request with, once, then closes. */
function badRequest(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}
