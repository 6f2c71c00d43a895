// Deploy benchmark (issue 5): the framework's own overhead, from scheduler start to deploy
// plan complete, and the scheduler's peak memory.
//
// Zero-latency mode (what the targets are about): node steps cost (almost) nothing outside
// the framework. The real executor code (src/executor) and the real ScaleIO node handlers
// run inside the agent host processes (no process per executor), and the emulator's node
// tools (scli, drv_cfg, rpm, yum) answer over one loopback HTTP call each instead of a
// forwarder process per command (sim/demo/in-process-executor.ts). What is measured is
// therefore the scheduler, the Mesos protocol on both sides (offers, reservations, launches,
// status updates and acknowledgements through the development master and agents), the plan
// engine with its crash-safe store, the executor's step code and the REST gateway calls.
// The scheduler runs alone in its own process (sim/demo/scheduler-process.ts, from dist/),
// so its heap and RSS are its own; the master and emulator run here, agents in their hosts.
//
// The real-install figure (every scli/rpm call a process, one executor process per agent)
// is printed too unless --no-real.
//
// Usage: npm run bench:deploy [-- --no-real] [-- --only 5|203|1000]
import { fork, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type {
  SchedulerProcessArgs,
  SchedulerProcessReport,
} from "../sim/demo/scheduler-process.js";

const argv = process.argv.slice(2);
const only = argv.includes("--only") ? Number(argv[argv.indexOf("--only") + 1]) : undefined;
const logDir = argv.includes("--log-dir") ? argv[argv.indexOf("--log-dir") + 1] : undefined;
if (logDir) mkdirSync(logDir, { recursive: true });
const root = fileURLToPath(new URL("..", import.meta.url));
// The development cluster and the emulator from dist/ as well (built by `npm run bench:deploy`):
// the agent host processes then run plain JavaScript, without the TypeScript loader.
const { startDemo, startDemoWorld } = (await import(
  pathToFileURL(join(root, "dist", "sim", "demo", "demo.js")).href
)) as typeof import("../sim/demo/demo.js");
const schedulerScript = join(root, "dist", "sim", "demo", "scheduler-process.js");
// Node flags of the measured scheduler process: those deploy/marathon.json runs it with (its
// heap budget), or BENCH_SCHEDULER_FLAGS (space-separated; "none" for Node's defaults).
function marathonNodeFlags(): string[] {
  const app = JSON.parse(readFileSync(join(root, "deploy", "marathon.json"), "utf8")) as {
    cmd: string;
  };
  const afterNode = app.cmd.split(/\s+/).slice(app.cmd.split(/\s+/).indexOf("node") + 1);
  const end = afterNode.findIndex((w) => !w.startsWith("--"));
  return afterNode.slice(0, end < 0 ? afterNode.length : end);
}
const schedulerNodeFlags =
  process.env.BENCH_SCHEDULER_FLAGS === undefined
    ? marathonNodeFlags()
    : process.env.BENCH_SCHEDULER_FLAGS.split(/\s+/).filter((f) => f && f !== "none");

type Report = SchedulerProcessReport & {
  statusUpdates?: number;
  acknowledgements?: number;
  offers?: number;
};

const agentProcs = Math.max(1, Number(process.env.BENCH_AGENT_PROCS) || 2);

async function zeroLatency(agents: number, deadlineMs: number): Promise<Report> {
  const world = await startDemoWorld({
    agents,
    storageAgents: agents,
    zeroLatency: true,
    // Many-agents mode: one agent host process per core of this machine by default (four
    // cost the same deploy about a quarter more agent-side CPU: more processes switching, more
    // heaps, smaller batches per turn); BENCH_AGENT_PROCS=<n> to compare.
    agentsPerProcess: Math.max(5, Math.ceil(agents / agentProcs)),
    // Mesos' own retry interval: a loaded cluster acknowledges later than the demo's 500 ms,
    // and early resends would only add load.
    statusUpdateRetryMs: 10_000,
  });
  try {
    const { env, flags } = world.schedulerConfig;
    const args: SchedulerProcessArgs = {
      env,
      // BENCH_STATE_DIR=<dir>: the scheduler's state elsewhere (e.g. tmpfs, to see what
      // fsync latency on this disk costs).
      flags: process.env.BENCH_STATE_DIR
        ? { ...flags, "state-dir": `${process.env.BENCH_STATE_DIR}/state-${agents}-${Date.now()}` }
        : flags,
      agents,
      deadlineMs,
      ...(logDir ? { logFile: join(logDir, `scheduler-${agents}.log`) } : {}),
    };
    const child = fork(schedulerScript, [JSON.stringify(args)], {
      // Plain node on dist/: no tsx loader in the measured process. BENCH_CPU_PROF=<dir>
      // writes a CPU profile of the scheduler there.
      execArgv: [
        ...schedulerNodeFlags,
        ...(process.env.BENCH_CPU_PROF
          ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
          : []),
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const report = await new Promise<SchedulerProcessReport>((resolve, reject) => {
      child.once("message", (m: { report: SchedulerProcessReport }) => resolve(m.report));
      child.once("exit", (code) => reject(new Error(`scheduler process exited with ${code}`)));
    });
    const exited = new Promise((r) => child.once("exit", r));
    child.send({ stop: true });
    await exited;
    const metrics = world.cluster.master.metrics();
    return {
      ...report,
      statusUpdates: metrics["master/messages_status_update"] ?? 0,
      acknowledgements: metrics["master/messages_status_update_acknowledgement"] ?? 0,
      offers: world.cluster.master.counters.offersSent,
    };
  } finally {
    await world.stop();
  }
}

const mb = (n: number) => `${n.toFixed(0)} MB`;
const cpuS = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

function printDeploy(label: string, r: Report, targetS?: number): void {
  if (!r.ok) {
    console.log(`${label}: FAILED: ${r.error}`);
    return;
  }
  const s = r.deployMs / 1000;
  console.log(
    `${label}: ${s.toFixed(2)} s scheduler start to deploy complete, ${r.steps} steps ` +
      (targetS === undefined ? "" : `(target <= ${targetS} s: ${verdict(s <= targetS)})`) +
      `; process start to complete ${(r.processMs / 1000).toFixed(2)} s; ` +
      `scheduler heap peak ${mb(r.heapPeakMb)}, rss peak ${mb(r.rssPeakMb)}, cpu ${r.cpuS.toFixed(1)} s ` +
      `(master and emulator process: cpu ${cpuS().toFixed(1)} s so far); ` +
      `offers ${r.offers}, status updates through the master ${r.statusUpdates}, ` +
      `acknowledgements ${r.acknowledgements}`,
  );
}

/**
 * The machine's speed right now: a fixed JSON workload run by two processes at once (one per
 * core), in ms each. On a shared VM the same deploy's times follow these figures.
 */
async function machineSpeed(): Promise<number[]> {
  const script = `const o={a:[...Array(200)].map((_,i)=>({id:"x"+i,v:i*1.5,s:"hello world "+i}))};
const t=process.hrtime.bigint();for(let i=0;i<3000;i++)JSON.parse(JSON.stringify(o));
process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.once("error", reject);
      child.once("exit", () => resolve(Math.round(Number(out))));
    });
  return Promise.all([one(), one()]);
}

console.log(`scheduler process: node ${schedulerNodeFlags.join(" ") || "(no flags)"}`);
console.log(
  `machine speed: a fixed JSON workload took ${(await machineSpeed()).join(" and ")} ms in ` +
    "two processes at once (about 270 each on this VM when its host is quiet)",
);
if (only === undefined || only === 5) {
  printDeploy("zero-latency 3 MDM + 2 data nodes", await zeroLatency(5, 120_000), 3);
}
if (only === undefined || only === 203) {
  printDeploy("zero-latency 3 MDM + 200 data nodes", await zeroLatency(203, 600_000), 20);
}
if (only === undefined || only === 1000) {
  const r = await zeroLatency(1000, 900_000);
  printDeploy("zero-latency 3 MDM + 997 data nodes (1,000 nodes)", r);
  console.log(
    `scheduler peak memory at 1,000 nodes: heap ${mb(r.heapPeakMb)}, rss ${mb(r.rssPeakMb)} ` +
      `(target <= 200 MB: ${verdict(r.rssPeakMb <= 200)})`,
  );
}
if (!argv.includes("--no-real") && only === undefined) {
  // Real emulated installs: every tool call a process, an executor process per agent.
  const started = Date.now();
  const demo = await startDemo({ agents: 5, storageAgents: 3, out: () => {}, deadlineMs: 600_000 });
  try {
    const plan = await demo.healthy;
    console.log(
      `real emulated installs 3 MDM + 2 data nodes: ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${plan.progress.total} steps; scheduler, emulator and master in one process)`,
    );
  } finally {
    await demo.stop();
  }
}
process.exit(0);
