// The scheduler keeping its state in ZooKeeper (--state zk://..., --zk-auth-file): it starts,
// subscribes and persists its framework id there, readable only with the credentials, which
// never show in its output.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { Secret } from "../../../src/common/secret.js";
import { StoreError } from "../../../src/store/store.js";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitUntil, withDeadline } from "../../support/wait.js";

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const PASSWORD = "Sched-Adm1n-pw";
const ZK_PASSWORD = "zk-Digest-pw-42";
let cluster: DevCluster | undefined;
let zk: ZooKeeperServer | undefined;
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await cluster?.stop();
  await zk?.destroy();
});

test(
  "--state zk://: the scheduler subscribes and keeps its framework id in ZooKeeper, behind its ACL",
  { timeout: 120_000 },
  async () => {
    zk = await ZooKeeperServer.start();
    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const dir = mkdtempSync(join(tmpdir(), "sched-zk-"));
    const authFile = join(dir, "zk-auth");
    writeFileSync(authFile, `scaleio:${ZK_PASSWORD}\n`, { mode: 0o600 });
    const url = zk.zkUrl("/scaleio-framework");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        main,
        "scheduler",
        "--master",
        cluster.masterUrl,
        "--api-address",
        "127.0.0.1",
        "--api-port",
        "0",
        "--state",
        url,
        "--zk-auth-file",
        authFile,
      ],
      {
        env: { ...process.env, SCALEIO_ADMIN_PASSWORD: PASSWORD },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

    await waitUntil(() => /^api: http:\/\/127\.0\.0\.1:\d+$/m.test(out), {
      timeoutMs: 60_000,
      what: `the api: line (stderr: ${err.slice(-2000)})`,
    });
    const api = /^api: (\S+)$/m.exec(out)![1]!;
    await waitUntil(async () => (await fetch(`${api}/health`)).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "healthy",
    });
    const first = JSON.parse(err.split("\n")[0]!) as Record<string, string>;
    assert.equal(first.state, url);

    // The framework id is in ZooKeeper, for the digest user only.
    const reader = await ZkStateStore.open(url, {
      auth: new Secret(`scaleio:${ZK_PASSWORD}`, "test"),
    });
    try {
      await waitUntil(async () => (await reader.get("framework/id")) !== undefined, {
        timeoutMs: 30_000,
        what: "the framework id in ZooKeeper",
      });
    } finally {
      await reader.close();
    }
    await assert.rejects(
      (async () => {
        const other = await ZkStateStore.open(url, { auth: new Secret("x:y", "test") });
        try {
          await other.get("framework/id");
        } finally {
          await other.close();
        }
      })(),
      (e: unknown) => e instanceof StoreError && e.code === "ACL",
    );

    child.kill("SIGTERM");
    assert.equal(await withDeadline(exited, 20_000, "scheduler exit"), 0);
    for (const secret of [PASSWORD, ZK_PASSWORD]) {
      assert.ok(!err.includes(secret) && !out.includes(secret), "no secret in the output");
    }
  },
);
