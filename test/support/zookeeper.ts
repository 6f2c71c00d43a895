// A real ZooKeeper server (Debian's `zookeeper` package) for tests: standalone, bound to
// 127.0.0.1 on a free port, temporary data directory, admin server off. Readiness is
// polled with the `ruok` four-letter word under a deadline; never a fixed sleep.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DEFAULT_JARS = ["/usr/share/java/zookeeper.jar"];
// Optional: a logging backend so the server's own log reaches `server.log`.
const LOG_JAR = "/usr/share/java/slf4j-simple.jar";

export interface ZooKeeperServerOptions {
  /** ZooKeeper tick; sessions may range from 2 to 20 ticks by default. Default 200 ms. */
  tickTimeMs?: number;
  /** Override the session bounds the server grants (ms). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Deadline for the server to answer `ruok` (default 60 s). */
  startTimeoutMs?: number;
}

/** The Java classpath of the ZooKeeper server; throws a clear error if it is not installed. */
export function zooKeeperClasspath(): string {
  const fromEnv = process.env.ZOOKEEPER_CLASSPATH;
  if (fromEnv) return fromEnv;
  const missing = DEFAULT_JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) {
    throw new Error(
      `ZooKeeper is not installed (${missing.join(", ")} missing): install Debian's "zookeeper" package ` +
        "(.ci/run does) or set ZOOKEEPER_CLASSPATH",
    );
  }
  return [...DEFAULT_JARS, ...(existsSync(LOG_JAR) ? [LOG_JAR] : [])].join(":");
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Sends a four-letter word and returns the answer ('' when the server is not serving). */
export function fourLetterWord(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    let out = "";
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on("connect", () => sock.write(word));
    sock.on("data", (d) => (out += d.toString("utf8")));
    sock.on("end", finish);
    sock.on("error", finish);
  });
}

const live = new Set<ChildProcess>();
// If the test process dies without cleanup, take the JVMs with it.
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

export class ZooKeeperServer {
  readonly host = "127.0.0.1";
  private proc: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly configFile: string,
    private readonly startTimeoutMs: number,
  ) {}

  /** Starts a server on a free loopback port with a fresh temporary data directory. */
  static async start(opts: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const classpath = zooKeeperClasspath();
    const root = await mkdtemp(join(tmpdir(), "zk-test-"));
    const dataDir = join(root, "data");
    const port = await freePort();
    const tick = opts.tickTimeMs ?? 200;
    const lines = [
      `tickTime=${tick}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok,srvr,stat,cons",
      "maxClientCnxns=0",
      ...(opts.minSessionTimeoutMs ? [`minSessionTimeout=${opts.minSessionTimeoutMs}`] : []),
      ...(opts.maxSessionTimeoutMs ? [`maxSessionTimeout=${opts.maxSessionTimeoutMs}`] : []),
    ];
    const configFile = join(root, "zoo.cfg");
    await writeFile(configFile, lines.join("\n") + "\n");
    const server = new ZooKeeperServer(port, dataDir, configFile, opts.startTimeoutMs ?? 60_000);
    server.classpath = classpath;
    server.root = root;
    try {
      await server.launch();
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  private classpath = "";
  private root = "";

  /** `127.0.0.1:<port>` */
  get connectionString(): string {
    return `${this.host}:${this.port}`;
  }

  /** A `zk://` URL on this server, e.g. for a detector. */
  zkUrl(path = "/mesos", credentials?: string): string {
    return `zk://${credentials ? `${credentials}@` : ""}${this.connectionString}${path}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The server's recent output, for failure messages. */
  get log(): string {
    return this.output.slice(-8000);
  }

  private async launch(): Promise<void> {
    if (this.proc) throw new Error("ZooKeeper is already running");
    const proc = spawn(
      "java",
      [
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.admin.enableServer=false",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-cp",
        this.classpath,
        "org.apache.zookeeper.server.ZooKeeperServerMain",
        this.configFile,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.proc = proc;
    live.add(proc);
    const append = (d: Buffer) => {
      this.output = (this.output + d.toString("utf8")).slice(-64_000);
    };
    proc.stdout!.on("data", append);
    proc.stderr!.on("data", append);
    let exited: string | undefined;
    proc.once("error", (err) => (exited = `cannot run java: ${err.message}`));
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      exited ??= `exited with ${signal ?? code}`;
      if (this.proc === proc) this.proc = undefined;
    });
    const deadline = Date.now() + this.startTimeoutMs;
    let pause = 50;
    while (true) {
      if (exited) throw new Error(`ZooKeeper on port ${this.port} ${exited}\n${this.log}`);
      if ((await fourLetterWord(this.port, "ruok", 1000)) === "imok") return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `ZooKeeper on port ${this.port} not ready after ${this.startTimeoutMs} ms\n${this.log}`,
        );
      }
      // Polling interval grows a little; the deadline above bounds the wait.
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 250);
    }
  }

  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash); the data directory stays. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const gone = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once("exit", () => resolve());
    });
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
    this.proc = undefined;
  }

  /** Starts the server again on the same port and data directory. */
  async start(): Promise<void> {
    await this.launch();
  }

  /** stop() then start(): sessions and znodes survive (same data directory). */
  async restart(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }

  /** Stops the server and deletes its temporary directory. */
  async destroy(): Promise<void> {
    await this.stop("SIGKILL");
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}
