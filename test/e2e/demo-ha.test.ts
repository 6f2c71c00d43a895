// `demo --schedulers 2 --state zk://...`, as a user runs it against a ZooKeeper they run: two
// real scheduler processes on that state, one leading and one standing by, each with its API
// line and its log; the leader deploys to healthy, the demo exits 0 and leaves no process.
import { test } from "node:test";
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

interface Leader {
  leader: boolean;
  api: string | null;
}

test(
  "demo --schedulers 2 on ZooKeeper: one leads, one stands by, healthy, nothing left running",
  { timeout: 300_000 },
  async () => {
    const zk = await ZooKeeperServer.start();
    const tmp = mkdtempSync(join(tmpdir(), "demo-ha-"));
    const argv = [
      "--agents",
      "3",
      "--schedulers",
      "2",
      "--state",
      zk.zkUrl("/demo-ha"),
      "--exit-when-healthy",
    ];
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
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    const schedulers = new Set<number>();
    const watcher = setInterval(() => {
      for (const pid of descendants(child.pid!)) if (isScheduler(pid)) schedulers.add(pid);
    }, 200);
    try {
      await waitUntil(
        () => (stdout.match(/^log: /gm) ?? []).length === 2 || child.exitCode !== null,
        {
          timeoutMs: 120_000,
          intervalMs: 100,
          what: "the demo's api and log lines",
        },
      );
      const apis = [...stdout.matchAll(/^api: (\S+)(.*)$/gm)].map((m) => ({
        url: m[1]!,
        role: m[2]!.trim(),
      }));
      assert.equal(apis.length, 2, `two api lines:\n${stdout}\n${stderr}`);
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
          fromStandby ??= await ask(standbyUrl);
          return (fromLeader !== undefined && fromStandby !== undefined) || child.exitCode !== null;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: "both schedulers to answer /v1/leader" },
      );
      assert.equal(fromLeader?.leader, true);
      assert.equal(fromLeader?.api, leaderUrl);
      assert.equal(fromStandby?.leader, false);
      assert.equal(fromStandby?.api, leaderUrl);
      assert.match(stdout, /^gateway: https?:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(stdout, new RegExp(`^state: zk://${zk.connectionString}/demo-ha$`, "m"));

      assert.equal(await exited, 0, `the demo exits 0 once healthy:\n${stdout}\n${stderr}`);
      assert.match(
        stdout,
        /^healthy in [\d.]+ s: MDM cluster .*ClusteredNormal, 3\/3 SDS connected, .*3\/3 SDC connected, .*no health condition$/m,
      );
      assert.ok(stdout.includes("[verify]"), "the deploy's steps are shown");
      assert.equal(schedulers.size, 2, "two scheduler processes ran");
      await waitUntil(() => [...schedulers].every((p) => !alive(p)), {
        timeoutMs: 15_000,
        what: "both schedulers to exit with the demo",
      });
      // Each scheduler's log, named; the rest of the temporary folder is gone.
      const logs = [...stdout.matchAll(/^log: (.+)$/gm)].map((m) => m[1]!);
      assert.equal(new Set(logs).size, 2);
      for (const log of logs) {
        const first = readFileSync(log, "utf8").split("\n")[0]!;
        assert.equal(typeof (JSON.parse(first) as { msg: string }).msg, "string");
      }
      const left = readdirSync(tmp).filter((f) => !f.startsWith("tsx-"));
      assert.deepEqual(left.sort(), logs.map((l) => basename(l)).sort(), "only the logs are left");
    } finally {
      clearInterval(watcher);
      // On failure, leave nothing running (the schedulers are in the demo's process group).
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ESRCH"); // gone already
      }
      rmSync(tmp, { recursive: true, force: true });
      await zk.stop();
    }
  },
);
