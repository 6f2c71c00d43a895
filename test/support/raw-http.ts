// A raw TCP client for HTTP tests that need what no HTTP client does on purpose: send a body
// one byte at a time, stop halfway through the headers, never read an answer.
import { connect, type Socket } from "node:net";
import { withDeadline } from "./wait.js";

export class RawConnection {
  /** Everything received so far (latin1). */
  received = "";
  /** Resolves when the server closed or reset the connection. */
  readonly closed: Promise<void>;
  private isClosed = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.received += chunk;
      for (const l of this.listeners) l();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.isClosed = true;
        for (const l of this.listeners) l();
        resolve();
      });
    });
    // A reset by the server is one way of closing; the test looks at `closed`.
    socket.on("error", () => {});
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  write(text: string | Buffer): boolean {
    return this.socket.write(text);
  }

  /** Resolves when what was received matches, or rejects at the deadline (or on close). */
  waitFor(pattern: RegExp, timeoutMs: number, what = String(pattern)): Promise<RegExpExecArray> {
    return withDeadline(
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(this.received);
          if (m) {
            this.listeners.delete(check);
            resolve(m);
          } else if (this.isClosed) {
            this.listeners.delete(check);
            reject(new Error(`closed before ${what}; got ${JSON.stringify(this.received)}`));
          }
        };
        this.listeners.add(check);
        check();
      }),
      timeoutMs,
      what,
    );
  }

  /** Resolves when the server has closed the connection, or rejects at the deadline. */
  waitClosed(timeoutMs: number, what = "the server closing the connection"): Promise<void> {
    return withDeadline(this.closed, timeoutMs, what);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a connection to 127.0.0.1:port. */
export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => resolve(new RawConnection(socket)));
    socket.once("error", reject);
  });
}

/** The request line and headers of a request, ended by the blank line. */
export function head(method: string, path: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}
