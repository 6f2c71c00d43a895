// Upgrade benchmark (issue 16): the framework's own overhead for a rolling upgrade of 3 MDM +
// 200 data nodes with zero-latency installs, from `POST /v1/plans/upgrade` to the `upgrade`
// plan complete, and how that time splits between the serial SDS steps and the rest.
//
// Zero-latency mode as in bench:deploy: the real executor code and ScaleIO node handlers run
// in the agent host processes, the emulator's node tools answer over one loopback call each;
// what is measured is the scheduler (plan engine with its crash-safe store, health gate,
// observations of the emulated gateway), the Mesos round trips of every node step and the
// gateway calls. The cluster is deployed first (not measured). The scheduler runs alone in its
// own process (bench/upgrade-scheduler.ts, its modules from dist/); the master and the
// emulator run here, the agents in their host processes.
//
// Observation as in production (the default settle and interval): the SDS steps read their
// own protection domain and every pool's data movement, and take critical conditions from a
// look begun after the previous SDS step ended (the next one when the latest is older); the
// other steps wait on the observer's looks, and the health side looks soon after every
// finished step.
//
// Usage: npm run bench:upgrade [-- --agents N] [-- --log-dir DIR]
// (BENCH_CPU_PROF=DIR writes the scheduler's CPU profile to DIR.)
import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { UpgradeBenchArgs, UpgradeBenchReport } from "./upgrade-scheduler.js";

const argv = process.argv.slice(2);
const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const agents = Number(arg("--agents") ?? 203);
const logDir = arg("--log-dir");
if (logDir) mkdirSync(logDir, { recursive: true });
const TARGET = "2.0-13000.211";
const TARGET_S = 60;
const root = fileURLToPath(new URL("..", import.meta.url));
const { startDemoWorld } = (await import(
  pathToFileURL(join(root, "dist", "sim", "demo", "demo.js")).href
)) as typeof import("../sim/demo/demo.js");

const agentProcs = Math.max(1, Number(process.env.BENCH_AGENT_PROCS) || 2);
const world = await startDemoWorld({
  agents,
  storageAgents: agents,
  zeroLatency: true,
  agentsPerProcess: Math.max(5, Math.ceil(agents / agentProcs)),
  statusUpdateRetryMs: 10_000,
});
let report: UpgradeBenchReport;
try {
  const { env, flags } = world.schedulerConfig;
  const args: UpgradeBenchArgs = {
    env,
    flags: {
      ...flags,
      // BENCH_STATE_DIR=<dir>: the scheduler's state elsewhere (e.g. tmpfs: what fsync costs).
      ...(process.env.BENCH_STATE_DIR
        ? { "state-dir": `${process.env.BENCH_STATE_DIR}/upgrade-${agents}-${Date.now()}` }
        : {}),
    },
    agents,
    target: TARGET,
    ...(logDir ? { logFile: join(logDir, `upgrade-${agents}.log`) } : {}),
  };
  const child = fork(
    fileURLToPath(new URL("./upgrade-scheduler.ts", import.meta.url)),
    [JSON.stringify(args)],
    {
      // BENCH_CPU_PROF=<dir>: the scheduler process's CPU profile there (node --cpu-prof).
      execArgv: [
        "--import",
        "tsx",
        ...(process.env.BENCH_CPU_PROF
          ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF]
          : []),
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  report = await new Promise<UpgradeBenchReport>((resolve, reject) => {
    child.once("message", (m: { report: UpgradeBenchReport }) => resolve(m.report));
    child.once("exit", (code) => reject(new Error(`scheduler process exited with ${code}`)));
  });
  const behind = [...world.emulator.sys.nodes.values()].flatMap((n) =>
    [...n.packages.values()]
      .filter((p) => p.version !== TARGET)
      .map((p) => `${n.ip} ${p.component} ${p.version}`),
  );
  if (behind.length > 0) console.log(`NOT upgraded: ${behind.slice(0, 10).join(", ")}`);
} finally {
  await world.stop();
}

if (!report.ok) {
  console.log(`upgrade of ${agents} agents: FAILED: ${report.error}`);
  process.exit(1);
}
const total = report.upgradeMs! / 1000;
const sdsWall =
  report
    .phases!.filter((p) => p.id === "sds" || p.id === "sds-canary")
    .reduce((n, p) => n + p.ms, 0) / 1000;
const per = [...report.sdsStepMs!].sort((a, b) => a - b);
const q = (x: number) =>
  (per[Math.min(per.length - 1, Math.floor(x * per.length))] ?? 0).toFixed(0);
console.log(
  `deployed ${agents} agents in ${(report.deployMs! / 1000).toFixed(1)} s (not measured)`,
);
console.log(
  `zero-latency upgrade of 3 MDM + ${agents - 3} data nodes (${per.length} SDSs) to ${TARGET}: ` +
    `${total.toFixed(2)} s from the request to the plan complete, ${report.steps} steps ` +
    `(target <= ${TARGET_S} s: ${total <= TARGET_S ? "ok" : "MISSED"}); scheduler cpu ${report.cpuS!.toFixed(1)} s`,
);
console.log(
  `  serial SDS steps: ${sdsWall.toFixed(2)} s (${((sdsWall / total) * 100).toFixed(0)} %), ` +
    `${((sdsWall / Math.max(1, per.length)) * 1000).toFixed(0)} ms per SDS with the engine's hand-over ` +
    `(step alone: median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms); ` +
    `the rest: ${(total - sdsWall).toFixed(2)} s`,
);
for (const p of report.phases!)
  console.log(
    `  ${p.id.padEnd(10)} ${String(p.steps).padStart(4)} steps  ${(p.ms / 1000).toFixed(2)} s`,
  );
process.exit(0);
