// `demo --schedulers 2 --state zk://...`, as a user runs it against a ZooKeeper they run: two
// real scheduler processes on that state, one leading and one standing by, each with its API
// line and its log; the leader deploys to healthy, the demo exits 0 and leaves no process. A
// leader paused past its session is followed: the standby finishes, the deposed one is started
// again as a standby (as Marathon would), and SIGTERM to the demo stops every scheduler.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { alive, descendants } from "../sim/mesos/helpers.js";
import { ZooKeeperServer } from "../support/zookeeper.js";
import { waitUntil } from "../support/wait.js";

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
};
const isScheduler = (pid: number) => /\sscheduler\s/.test(cmdline(pid));

let zk: ZooKeeperServer;
before(async () => {
  zk = await ZooKeeperServer.start();
});
after(async () => {
  await zk.stop();
});

/** `demo <argv>` from the sources, in its own process group, in its own temporary folder. */
function runDemo(argv: string[], tmp: string) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `const m = await import('./sim/demo/demo.ts'); await m.runDemo(${JSON.stringify(argv)});`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, TMPDIR: tmp } },
  );
  const io = { stdout: "", stderr: "" };
  child.stdout.on("data", (b: Buffer) => (io.stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (io.stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  // Every scheduler process it started, seen while it ran.
  const schedulers = new Set<number>();
  const watcher = setInterval(() => {
    for (const pid of descendants(child.pid!)) if (isScheduler(pid)) schedulers.add(pid);
  }, 200);
  const cleanup = () => {
    clearInterval(watcher);
    // On failure, leave nothing running (the schedulers are in the demo's process group).
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, "ESRCH"); // gone already
    }
  };
  return { child, io, exited, schedulers, cleanup };
}

const apiLines = (stdout: string) =>
  [...stdout.matchAll(/^api: (\S+)(.*)$/gm)].map((m) => ({ url: m[1]!, role: m[2]!.trim() }));

interface Leader {
  leader: boolean;
  api: string | null;
}

const linesOf = (stdout: string, prefix: string) =>
  (stdout.match(new RegExp(`^${prefix}`, "gm")) ?? []).length;

test(
  "demo --schedulers 2 on ZooKeeper: one leads, one stands by, healthy, nothing left running",
  { timeout: 300_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), "demo-ha-"));
    const argv = ["--agents", "3", "--schedulers", "2", "--state", zk.zkUrl("/demo-ha")];
    const demo = runDemo([...argv, "--exit-when-healthy"], tmp);
    const { io } = demo;
    try {
      await waitUntil(() => linesOf(io.stdout, "log: ") === 2 || demo.child.exitCode !== null, {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: "the demo's api and log lines",
      });
      const apis = apiLines(io.stdout);
      assert.equal(apis.length, 2, `two api lines:\n${io.stdout}\n${io.stderr}`);
      for (const a of apis) assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(apis.map((a) => a.role).sort(), ["(leader)", "(standby)"]);
      const leaderUrl = apis.find((a) => a.role === "(leader)")!.url;
      const standbyUrl = apis.find((a) => a.role === "(standby)")!.url;
      // Each says what it is, and the standby names the leader's API. (The leader hands its
      // port from its standby API to its full API once elected: asked again until it answers.)
      const ask = async (url: string): Promise<Leader | undefined> => {
        try {
          const res = await fetch(`${url}/v1/leader`, { signal: AbortSignal.timeout(5_000) });
          return res.status === 200 ? ((await res.json()) as Leader) : undefined;
        } catch {
          return undefined;
        }
      };
      let fromLeader: Leader | undefined;
      let fromStandby: Leader | undefined;
      await waitUntil(
        async () => {
          fromLeader ??= await ask(leaderUrl);
          // A standby listens before its first election round has read who leads: asked again.
          const s = await ask(standbyUrl);
          if (typeof s?.api === "string") fromStandby = s;
          return (
            (fromLeader !== undefined && fromStandby !== undefined) || demo.child.exitCode !== null
          );
        },
        { timeoutMs: 60_000, intervalMs: 200, what: "both schedulers to answer /v1/leader" },
      );
      assert.equal(fromLeader?.leader, true);
      assert.equal(fromLeader?.api, leaderUrl);
      assert.equal(fromStandby?.leader, false);
      assert.equal(fromStandby?.api, leaderUrl);
      assert.match(io.stdout, /^gateway: https?:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(io.stdout, new RegExp(`^state: zk://${zk.connectionString}/demo-ha$`, "m"));

      assert.equal(await demo.exited, 0, `exits 0 once healthy:\n${io.stdout}\n${io.stderr}`);
      assert.match(
        io.stdout,
        /^healthy in [\d.]+ s: MDM cluster .*ClusteredNormal, 3\/3 SDS connected, .*3\/3 SDC connected, .*no health condition$/m,
      );
      assert.ok(io.stdout.includes("[verify]"), "the deploy's steps are shown");
      assert.equal(demo.schedulers.size, 2, "two scheduler processes ran");
      await waitUntil(() => [...demo.schedulers].every((p) => !alive(p)), {
        timeoutMs: 15_000,
        what: "both schedulers to exit with the demo",
      });
      // Each scheduler's log, named; the rest of the temporary folder is gone.
      const logs = [...io.stdout.matchAll(/^log: (.+)$/gm)].map((m) => m[1]!);
      assert.equal(new Set(logs).size, 2);
      for (const log of logs) {
        const first = readFileSync(log, "utf8").split("\n")[0]!;
        assert.equal(typeof (JSON.parse(first) as { msg: string }).msg, "string");
      }
      const left = readdirSync(tmp).filter((f) => !f.startsWith("tsx-"));
      assert.deepEqual(left.sort(), logs.map((l) => basename(l)).sort(), "only the logs are left");

      // The state is now used: a second demo on it is refused before anything starts.
      const again = runDemo(argv, tmp);
      try {
        assert.equal(await again.exited, 2);
        assert.match(again.io.stderr, /already holds state .*: the demo starts afresh/);
        assert.equal(again.io.stdout, "");
      } finally {
        again.cleanup();
      }
    } finally {
      demo.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

test(
  "the leader paused past its session mid-deploy: the demo follows the new leader and starts the deposed one again as a standby; SIGTERM stops them all",
  { timeout: 300_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), "demo-ha-"));
    const demo = runDemo(
      ["--agents", "3", "--schedulers", "2", "--state", zk.zkUrl("/demo-ha-kill")],
      tmp,
    );
    const { io } = demo;
    try {
      await waitUntil(() => linesOf(io.stdout, "log: ") === 2 || demo.child.exitCode !== null, {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: "the demo's api and log lines",
      });
      const apis = apiLines(io.stdout);
      const leaderUrl = apis.find((a) => a.role === "(leader)")?.url;
      const standbyUrl = apis.find((a) => a.role === "(standby)")?.url;
      assert.ok(leaderUrl && standbyUrl, `a leader and a standby:\n${io.stdout}\n${io.stderr}`);
      // The leader's process: the one listening on the leader's port, as /v1/leader says.
      let info: { pid?: number } = {};
      await waitUntil(
        async () => {
          info = (await (await fetch(`${standbyUrl}/v1/leader`)).json()) as { pid?: number };
          return typeof info.pid === "number";
        },
        { timeoutMs: 30_000, intervalMs: 200, what: "the standby to name the leader" },
      );
      const leaderPid = info.pid!;
      assert.ok(demo.schedulers.has(leaderPid), "the leader is one of the demo's schedulers");
      await waitUntil(() => /\[facts\] .*: COMPLETE/.test(io.stdout), {
        timeoutMs: 120_000,
        what: "the deploy under way",
      });
      // Paused (a long GC pause, a frozen VM) until ZooKeeper ends its session and the
      // standby leads; then it runs again, finds itself deposed and exits for its supervisor.
      process.kill(leaderPid, "SIGSTOP");
      try {
        await waitUntil(() => io.stdout.includes(`leader: ${standbyUrl} (was ${leaderUrl})`), {
          timeoutMs: 90_000,
          intervalMs: 100,
          what: "the demo to name the new leader",
        });
      } finally {
        process.kill(leaderPid, "SIGCONT");
      }
      let again: string | undefined;
      await waitUntil(
        () =>
          (again = /^scheduler \d started again to stand by: (\S+)$/m.exec(io.stderr)?.[1]) !==
          undefined,
        { timeoutMs: 60_000, intervalMs: 100, what: "the deposed scheduler started again" },
      );
      assert.match(io.stderr, /^scheduler \d ended \(exit [1-9]\d*\)$/m);
      let view: Leader | undefined;
      await waitUntil(
        async () => {
          try {
            view = (await (await fetch(`${again}/v1/leader`)).json()) as Leader;
          } catch {
            // not listening yet
          }
          // Listening comes before its first election round has read who leads.
          return typeof view?.api === "string";
        },
        {
          timeoutMs: 30_000,
          intervalMs: 200,
          what: "the restarted scheduler's /v1/leader naming a leader",
        },
      );
      assert.equal(view?.leader, false, "started again as a standby");
      assert.equal(view?.api, standbyUrl, "naming the new leader");
      // Stopped like Ctrl-C (to the demo alone: its own stop must reach the schedulers).
      process.kill(demo.child.pid!, "SIGTERM");
      assert.equal(await demo.exited, 0, `${io.stdout}\n${io.stderr}`);
      await waitUntil(() => [...demo.schedulers].every((p) => !alive(p)), {
        timeoutMs: 15_000,
        what: "every scheduler to exit with the demo",
      });
      assert.equal(demo.schedulers.size, 3, "two schedulers, one of them started again");
      const left = readdirSync(tmp).filter((f) => !f.startsWith("tsx-"));
      assert.equal(left.length, 2, `only the two logs are left: ${left.join(", ")}`);
    } finally {
      demo.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
