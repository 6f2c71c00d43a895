// The scheduler as an operator starts it: predecessor-style flags, the `api:` line, /health
// turning healthy once subscribed, a clean exit on SIGTERM, a clear refusal without the
// admin password, and no secret in its output.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { waitUntil, withDeadline } from "../../support/wait.js";

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const PASSWORD = "Sched-Adm1n-pw";
let cluster: DevCluster | undefined;
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await cluster?.stop();
});

function scheduler(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", main, "scheduler", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

test(
  "starts with the predecessor's flags, becomes healthy, stops cleanly on SIGTERM",
  { timeout: 90_000 },
  async () => {
    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const dir = mkdtempSync(join(tmpdir(), "sched-cli-"));
    const s = scheduler(
      [
        `-uri=${cluster.masterUrl}`,
        "-rest.port=0",
        "--api-address",
        "127.0.0.1",
        "--state-dir",
        join(dir, "state"),
        "-loglevel=debug",
        "-scaleio.protectiondomain=pd1",
      ],
      { SCALEIO_ADMIN_PASSWORD: PASSWORD },
    );
    await waitUntil(() => /^api: http:\/\/127\.0\.0\.1:\d+$/m.test(s.out()), {
      timeoutMs: 30_000,
      what: "the api: line",
    });
    const api = /^api: (\S+)$/m.exec(s.out())![1]!;
    let health = 0;
    await waitUntil(
      async () => {
        health = (await fetch(`${api}/health`)).status;
        return health === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "healthy" },
    );
    const version = (await (await fetch(`${api}/version`)).json()) as { versionstr: string };
    assert.equal(version.versionstr, "0.1.0");
    s.child.kill("SIGTERM");
    assert.equal(await withDeadline(s.exited, 20_000, "scheduler exit"), 0);
    assert.equal(s.out().trim().split("\n").length, 1, "stdout holds only the api: line");
    assert.ok(
      !s.err().includes(PASSWORD) && !s.out().includes(PASSWORD),
      "the password never shows",
    );
    assert.match(s.err(), /"msg":"subscribed to mesos"/);
  },
);

test(
  "refuses to start without the admin password, and on bad configuration, saying why",
  { timeout: 30_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "sched-cli-"));
    const noPw = scheduler(
      ["--master", "http://127.0.0.1:1", "--state-dir", join(dir, "s1"), "--api-port", "0"],
      { SCALEIO_ADMIN_PASSWORD: "" },
    );
    assert.equal(await withDeadline(noPw.exited, 20_000, "exit"), 2);
    assert.match(noPw.err(), /admin password is required/);
    const bad = scheduler(["--storage-pool", "p;rm -rf /", "--api-port", "eighty"], {
      SCALEIO_ADMIN_PASSWORD: PASSWORD,
    });
    assert.equal(await withDeadline(bad.exited, 20_000, "exit"), 2);
    assert.match(bad.err(), /scaleio.storagePool: may contain only letters/);
    assert.match(bad.err(), /--api-port: expected an integer, got 'eighty'/);
  },
);
