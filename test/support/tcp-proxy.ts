// A loopback TCP proxy for fault injection: it can silently swallow the traffic of the
// connections it carries (a network partition without FIN/RST), or refuse new ones.
import { EventEmitter } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

export class TcpProxy extends EventEmitter {
  private readonly pairs = new Set<Pair>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {
    super();
  }

  /** Listens on 127.0.0.1, port 0, forwarding to `target`. */
  static start(target: { host: string; port: number }): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const addr = server.address();
        if (typeof addr !== "object" || !addr) return reject(new Error("no address"));
        const proxy = new TcpProxy(server, addr.port, target);
        server.on("connection", (s) => proxy.accept(s));
        resolve(proxy);
      });
    });
  }

  get connectionString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections currently carried. */
  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target);
    const pair: Pair = { client, upstream, blackholed: false };
    this.pairs.add(pair);
    client.on("data", (d) => {
      if (!pair.blackholed) upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (!pair.blackholed) client.write(d);
    });
    const close = (side: "client" | "upstream") => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
      this.emit("closed", side);
    };
    client.on("close", () => close("client"));
    upstream.on("close", () => close("upstream"));
    client.on("error", () => {});
    upstream.on("error", () => {});
  }

  /** Swallows all bytes of the current connections from now on; sockets stay open. */
  blackholeExisting(): void {
    for (const p of this.pairs) p.blackholed = true;
  }

  /** Accept-and-close new connections (true) or forward them again (false). */
  refuseNew(refuse: boolean): void {
    this.refusing = refuse;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
