// The data-failover scenario on the demo cluster, driven by the volume driver on the agents:
// an application task on agent A asks dvdcli for its volume (REX-Ray creates it and attaches
// it to A's SDC) and writes to it, agent A dies, and the task restarted on agent B asks dvdcli
// for the same volume: REX-Ray takes it over from A's SDC (preemption, as the framework's
// REX-Ray configuration allows) and the task reads the same bytes back (compared by SHA-256).
// The script itself maps nothing. The application is a second Mesos framework running plain
// command tasks, as any user's would. The agents' REX-Ray and dvdcli are the emulator's
// stand-ins: those the deploy installed (--rexray-url, --dvdcli-url), else the emulator's own
// copy, each with the agent's /etc/rexray/config.yml. An emulated node mounts no file system:
// beside the mount path dvdcli leaves a `device` link to the attached volume, which the task
// writes and reads.
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { SchedulerClient } from "../../src/mesos/scheduler/client.js";
import { isTerminalTaskState, type Offer, type TaskStatus } from "../../src/mesos/types/common.js";
import { GatewayClient } from "../../src/platforms/scaleio/gateway/client.js";
import { Secret } from "../../src/common/secret.js";
import { standInPath } from "../scaleio/volume-driver/packages.js";
import type { Demo } from "./demo.js";

export interface FailoverOptions {
  /** Agent indexes in the dev cluster (default: the last two agents). */
  from?: number;
  to?: number;
  /** Bytes the application writes (default 1 MiB). */
  bytes?: number;
  password: string;
  out?: (line: string) => void;
  timeoutMs?: number;
}

export interface FailoverResult {
  volumeId: string;
  written: string;
  read: string;
  fromAgent: string;
  toAgent: string;
}

/** A minimal application framework: runs one shell command task on a chosen agent. */
class App {
  private readonly client: SchedulerClient;
  private readonly offers = new Map<string, Offer>();
  private readonly waiters = new Set<() => void>();
  private readonly updates: TaskStatus[] = [];
  private seq = 0;
  private problem: string | undefined;

  constructor(masterUrl: string) {
    this.client = new SchedulerClient({
      master: masterUrl,
      frameworkInfo: {
        user: userInfo().username,
        name: "failover-app",
        roles: ["*"],
        capabilities: [{ type: "MULTI_ROLE" }],
      },
      persistFrameworkId: () => undefined,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    this.client.on("offers", (list) => {
      for (const o of list) this.offers.set(o.id.value, o);
      this.wake();
    });
    this.client.on("rescind", (id) => this.offers.delete(id.value));
    this.client.on("fatal", (err) => {
      this.problem = err.message;
      this.wake();
    });
    this.client.on("update", (s) => {
      this.updates.push(s);
      void this.client.acknowledgeIfNeeded(s).catch(() => undefined);
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private until<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.problem) {
          cleanup();
          reject(new Error(`the application framework stopped: ${this.problem}`));
          return;
        }
        const v = get();
        if (v === undefined) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  start(): void {
    this.client.start();
  }

  /** Runs `sh -c command` on the agent; resolves with its final status (throws unless FINISHED). */
  async run(agentId: string, command: string, timeoutMs: number): Promise<TaskStatus> {
    await this.client.revive().catch(() => undefined);
    const offer = await this.until(
      () => [...this.offers.values()].find((o) => o.agent_id.value === agentId),
      timeoutMs,
      `an offer from agent ${agentId}`,
    );
    this.offers.delete(offer.id.value);
    const taskId = `failover-app-${Date.now()}-${this.seq++}`;
    await this.client.accept(
      [offer.id],
      [
        {
          type: "LAUNCH",
          launch: {
            task_infos: [
              {
                name: taskId,
                task_id: { value: taskId },
                agent_id: offer.agent_id,
                resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
                command: { shell: true, value: command },
              },
            ],
          },
        },
      ],
      { refuse_seconds: 0 },
    );
    const end = await this.until(
      () => this.updates.find((u) => u.task_id.value === taskId && isTerminalTaskState(u.state)),
      timeoutMs,
      `task ${taskId} to end`,
    );
    if (end.state !== "TASK_FINISHED")
      throw new Error(`task on ${agentId} ended ${end.state}: ${end.message ?? ""}`);
    return end;
  }

  async stop(): Promise<void> {
    await this.client.teardown().catch(() => this.client.stop());
  }
}

/** The first bytes of a (large, sparse) device file. */
function headOf(path: string, bytes: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Only Mesos and the emulator are used: it works whichever scheduler leads, and however many. */
export async function runFailover(
  demo: Pick<Demo, "cluster" | "emulator" | "nodesDir">,
  o: FailoverOptions,
): Promise<FailoverResult> {
  const out = o.out ?? ((l: string) => console.log(l));
  const timeoutMs = o.timeoutMs ?? 60_000;
  const agents = demo.cluster.agents;
  const a = agents[o.from ?? agents.length - 2]!;
  const b = agents[o.to ?? agents.length - 1]!;
  const [aId, bId] = [await a.id(), await b.id()];
  const bytes = o.bytes ?? 1 << 20;
  const gw = new GatewayClient({
    url: demo.emulator.gatewayUrl,
    password: new Secret(o.password, "demo"),
    ...(demo.emulator.caFile ? { ca: readFileSync(demo.emulator.caFile) } : {}),
  });
  const app = new App(demo.cluster.masterUrl);
  app.start();
  try {
    const name = `failover-${Date.now() % 1e9}`;
    const rootOf = (host: string) => join(demo.nodesDir, host);
    // dvdcli on an agent, as the isolator would run it, with the emulated node's identity.
    const dvdcli = (host: string, verb: string, opts = "") => {
      const installed = ["usr/bin/dvdcli", "opt/bin/dvdcli"]
        .map((p) => join(rootOf(host), p))
        .find((p) => existsSync(p));
      const program = installed
        ? q(installed)
        : `${q(process.execPath)} ${q(standInPath("dvdcli"))}`;
      const vars = {
        SCALEIO_SIM_ROOT: rootOf(host),
        SCALEIO_SIM_NODE_IP: host,
        SCALEIO_SIM_CONTROL: demo.emulator.controlUrl,
        ...(demo.emulator.caFile ? { SCALEIO_SIM_GATEWAY_CA: demo.emulator.caFile } : {}),
      };
      const env = Object.entries(vars)
        .map(([k, v]) => `${k}=${q(v)}`)
        .join(" ");
      return `env ${env} ${program} ${verb} --volumedriver=rexray --volumename=${name}${opts}`;
    };
    const deviceOn = (host: string) => join(rootOf(host), "var/lib/rexray/volumes", name, "device");

    // The application on A: its volume through dvdcli, then random bytes and their checksum.
    const devA = deviceOn(a.host);
    const sumA = join(rootOf(a.host), "written.sha256");
    await app.run(
      aId,
      `${dvdcli(a.host, "mount", " --volumeopts=size=8")} >/dev/null && ` +
        `head -c ${bytes} /dev/urandom > ${q(`${sumA}.tmp`)} && ` +
        `dd if=${q(`${sumA}.tmp`)} of=${q(devA)} bs=65536 conv=notrunc,fsync 2>/dev/null && ` +
        `rm -f ${q(`${sumA}.tmp`)} && ` +
        `head -c ${bytes} ${q(devA)} | sha256sum | cut -d' ' -f1 > ${q(sumA)}`,
      timeoutMs,
    );
    const volume = (await gw.volumes()).find((v) => v.name === name);
    if (!volume) throw new Error(`dvdcli on A left no volume named ${name}`);
    const volumeId = volume.id;
    const sdcIps = async () =>
      ((await gw.volume(volumeId)).mappedSdcInfo ?? []).map((m) => m.sdcIp).join(", ");
    out(
      `1. a task on agent A (${a.host}) asked dvdcli for volume ${name}: REX-Ray created ${volumeId}`,
    );
    out(`2. REX-Ray attached it to the SDC at ${await sdcIps()}: ${devA}`);
    const written = readFileSync(sumA, "utf8").trim();
    out(`3. the task on A wrote ${bytes} bytes, sha256 ${written}`);

    await a.kill();
    out(`4. agent A killed`);

    // The application restarted on B asks for the same volume: REX-Ray preempts A's mapping.
    const devB = deviceOn(b.host);
    const sumB = join(rootOf(b.host), "read.sha256");
    await app.run(
      bId,
      `${dvdcli(b.host, "mount")} >/dev/null && ` +
        `head -c ${bytes} ${q(devB)} | sha256sum | cut -d' ' -f1 > ${q(sumB)}`,
      timeoutMs,
    );
    out(
      `5. a task on agent B (${b.host}) asked dvdcli for ${name}: REX-Ray took it over, now attached to ${await sdcIps()}`,
    );
    const read = readFileSync(sumB, "utf8").trim();
    out(`6. the task on B read sha256 ${read}: ${read === written ? "same bytes" : "DIFFERENT"}`);
    // Independent check from outside Mesos.
    const direct = createHash("sha256").update(headOf(devB, bytes)).digest("hex");
    if (direct !== read)
      throw new Error(`the task on B reported ${read}, the device holds ${direct}`);
    return { volumeId, written, read, fromAgent: aId, toAgent: bId };
  } finally {
    await app.stop();
    await gw.close();
  }
}
