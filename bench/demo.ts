// Demo at scale (issue 20): `scaleio-framework demo --agents N --exit-when-healthy` as a user
// runs it (from dist/), with the memory of every process it starts and how long it takes to
// become healthy. Memory is sampled from /proc every 500 ms: the sum over the demo's process
// tree of PSS (shared pages split between the processes that map them: what the tree costs
// the machine) and of RSS, by kind of process (the demo itself, which holds the scheduler,
// the Mesos master and the emulator; agent host processes; executors; tool processes), and
// what /dev/shm grew by (shared mode keeps the emulated world's files there).
//
// Usage: npm run bench:demo [-- --agents 100] [-- <more demo options, e.g. --no-shared-processes>]
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statfsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const at = argv.indexOf("--agents");
const agents = at >= 0 ? Number(argv[at + 1]) : 100;
const extra = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
const root = fileURLToPath(new URL("..", import.meta.url));
const demoArgs = ["demo", "--agents", String(agents), "--exit-when-healthy", ...extra];

type Kind = "demo" | "agent hosts" | "executors" | "other";

function parents(): Map<number, number> {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return parent;
}

function tree(rootPid: number): number[] {
  const parent = parents();
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  }
  return out;
}

function kindOf(pid: number, rootPid: number): Kind {
  if (pid === rootPid) return "demo";
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    if (/agent\/main\.[jt]s /.test(cmd)) return "agent hosts";
    if (/\sexecutor\s*$/.test(cmd)) return "executors";
  } catch {
    // Gone: counted as other (its figures are gone too).
  }
  return "other";
}

/** PSS and RSS of one process in kB (0 when it is gone). */
function memoryKb(pid: number): { pss: number; rss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? 0);
    return { pss: field("Pss"), rss: field("Rss") };
  } catch {
    return { pss: 0, rss: 0 };
  }
}

const shmUsedMb = (): number => {
  try {
    const s = statfsSync("/dev/shm");
    return ((s.blocks - s.bfree) * s.bsize) / 2 ** 20;
  } catch {
    return 0;
  }
};

interface Sample {
  pssMb: number;
  rssMb: number;
  processes: number;
  byKind: Record<Kind, { pssMb: number; count: number }>;
}

function sample(rootPid: number): Sample {
  const byKind: Sample["byKind"] = {
    demo: { pssMb: 0, count: 0 },
    "agent hosts": { pssMb: 0, count: 0 },
    executors: { pssMb: 0, count: 0 },
    other: { pssMb: 0, count: 0 },
  };
  let pss = 0;
  let rss = 0;
  const pids = tree(rootPid);
  for (const pid of pids) {
    const m = memoryKb(pid);
    pss += m.pss;
    rss += m.rss;
    const k = byKind[kindOf(pid, rootPid)];
    k.pssMb += m.pss / 1024;
    k.count++;
  }
  return { pssMb: pss / 1024, rssMb: rss / 1024, processes: pids.length, byKind };
}

const load = loadavg()[0]!;
const shmBefore = shmUsedMb();
const started = Date.now();
const child = spawn(process.execPath, [join(root, "bin", "scaleio-framework"), ...demoArgs], {
  cwd: root,
  stdio: ["ignore", "pipe", "pipe"],
});
let stdout = "";
let stderr = "";
child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
let peak: Sample | undefined;
let maxProcesses = 0;
let shmPeak = 0;
const sampler = setInterval(() => {
  const s = sample(child.pid!);
  maxProcesses = Math.max(maxProcesses, s.processes);
  shmPeak = Math.max(shmPeak, shmUsedMb() - shmBefore);
  if (!peak || s.pssMb > peak.pssMb) peak = s;
}, 500);
const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
clearInterval(sampler);
const wallS = (Date.now() - started) / 1000;
const healthy = /^healthy in .*$/m.exec(stdout)?.[0];
const mode = /^agents: .*$/m.exec(stdout)?.[0] ?? "a process per agent and per executor";
const mb = (n: number) => `${n.toFixed(0)} MB`;
console.log(`scaleio-framework ${demoArgs.join(" ")}`);
console.log(`  ${mode}; load average at start ${load.toFixed(2)} (2 cores)`);
if (code !== 0 || !healthy) {
  console.log(`  FAILED (exit ${code}) after ${wallS.toFixed(1)} s`);
  console.log(stdout.split("\n").slice(-15).join("\n"));
  console.log(stderr.split("\n").slice(-15).join("\n"));
  process.exit(1);
}
console.log(`  ${healthy}`);
console.log(`  process start to exit: ${wallS.toFixed(1)} s`);
if (peak) {
  const parts = Object.entries(peak.byKind)
    .filter(([, v]) => v.count > 0)
    .map(([k, v]) => `${k} ${mb(v.pssMb)} (${v.count})`)
    .join(", ");
  console.log(
    `  peak memory of the demo's processes: PSS ${mb(peak.pssMb)} (RSS ${mb(peak.rssMb)}), ` +
      `${(peak.pssMb / agents).toFixed(1)} MB per agent; at that moment ${parts}; ` +
      `at most ${maxProcesses} processes; /dev/shm grew by up to ${mb(shmPeak)}`,
  );
}
