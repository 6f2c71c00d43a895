// The demo's agents are child processes and its executors their children: neither may inherit
// the secrets the demo was started with (an executor's environment is readable in
// /proc/<pid>/environ by its user and shown by Mesos). Read from /proc while they run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, demoPassword, DEMO_SECRET_ENV } from "../../../sim/demo/demo.js";
import { waitUntil } from "../../support/wait.js";

const PASSWORD = "Env-Adm1n-Secret-42";
const TOKEN = "env-api-token-0123456789";

/** pid -> parent pid, for every process we may read. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // `pid (comm) state ppid ...`; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      out.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // The process ended between readdir and read: nothing to check.
    }
  }
  return out;
}

function descendantEnvs(root: number): { pid: number; env: string }[] {
  const ppid = parents();
  const mine = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of ppid)
      if (!mine.has(pid) && mine.has(parent)) {
        mine.add(pid);
        grew = true;
      }
  }
  mine.delete(root);
  const out: { pid: number; env: string }[] = [];
  for (const pid of mine) {
    try {
      out.push({ pid, env: readFileSync(`/proc/${pid}/environ`, "utf8") });
    } catch {
      // Ended meanwhile (a short-lived tool): nothing to check.
    }
  }
  return out;
}

test("the demo's agents and executors do not inherit the demo's secrets", async () => {
  const saved = Object.fromEntries(DEMO_SECRET_ENV.map((k) => [k, process.env[k]]));
  process.env.SCALEIO_ADMIN_PASSWORD = PASSWORD;
  process.env.SCALEIO_FRAMEWORK_API_TOKEN = TOKEN;
  // A short deadline: the deploy is stopped before it completes, and `healthy` keeps the
  // process alive until its deadline.
  const logDir = mkdtempSync(join(tmpdir(), "secret-env-"));
  const logFile = join(logDir, "scheduler.log");
  const demo = await startDemo({ agents: 3, out: () => {}, deadlineMs: 20_000, logFile });
  // Never healthy, on purpose: the outcome is kept for a failure message, not asserted.
  let healthy = "pending";
  demo.healthy.then(
    () => (healthy = "healthy"),
    (err: Error) => (healthy = err.message),
  );
  try {
    // The demo still uses them (its scheduler got them through its configuration)...
    assert.equal(demoPassword(), PASSWORD);
    // ...but they left the environment before the agents started.
    for (const k of DEMO_SECRET_ENV) assert.equal(process.env[k], undefined, k);
    let seen: { pid: number; env: string }[] = [];
    await waitUntil(
      () => {
        seen = descendantEnvs(process.pid);
        return seen.some((p) => p.env.includes("MESOS_EXECUTOR_ID="));
      },
      { timeoutMs: 90_000, intervalMs: 100, what: "an executor process" },
    );
    assert.ok(seen.length >= 2, `agent hosts and executors were read (deploy: ${healthy})`);
    for (const p of seen) {
      assert.ok(!p.env.includes(PASSWORD), `pid ${p.pid} has the admin password`);
      assert.ok(!p.env.includes(TOKEN), `pid ${p.pid} has the API token`);
      for (const k of DEMO_SECRET_ENV) assert.ok(!p.env.includes(`${k}=`), `pid ${p.pid}: ${k}`);
    }
    // Without TLS the scheduler says at start that secrets travel in clear.
    assert.match(readFileSync(logFile, "utf8"), /"level":40.*the API is plain HTTP/);
  } finally {
    await demo.stop();
    rmSync(logDir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
