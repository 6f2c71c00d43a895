// The scheduler with --api-tls-cert/--api-tls-key: its API is HTTPS, the executors get the CA
// in their ExecutorInfo and trade their tokens over TLS (bound to their task, from their
// agent's address), and a deploy that needs the admin password completes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { startDemo } from "../../../sim/demo/demo.js";
import { makeCert } from "../../../sim/scaleio/gateway/tls.js";

test(
  "over TLS a 3-agent deploy completes, executors verifying the scheduler's certificate",
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "api-tls-"));
    const pem = await makeCert("127.0.0.1");
    writeFileSync(join(dir, "api.pem"), pem.cert);
    writeFileSync(join(dir, "api.key"), pem.key, { mode: 0o600 });
    const logFile = join(dir, "scheduler.log");
    const demo = await startDemo({
      agents: 3,
      out: () => {},
      deadlineMs: 180_000,
      logFile,
      flags: { "api-tls-cert": join(dir, "api.pem"), "api-tls-key": join(dir, "api.key") },
    });
    const trusting = new Agent({ connect: { ca: pem.cert } });
    try {
      assert.match(demo.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      const plan = await demo.healthy;
      assert.equal(plan.status, "COMPLETE");
      const health = await fetch(`${demo.apiUrl}/health`, { dispatcher: trusting });
      assert.equal(health.status, 200);
      const log = readFileSync(logFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; remote?: string; purpose?: string });
      const handed = log.filter((l) => l.msg === "secrets handed to an executor");
      assert.ok(handed.length >= 3, "the MDM cluster, LIA and REX-Ray steps got the password");
      // Each from its agent's own loopback address (127.x.y.z; the scheduler is on 127.0.0.1).
      const agentIps = new Set(demo.cluster.agents.map((a) => a.host));
      assert.ok(
        handed.every((l) => agentIps.has(l.remote ?? "")),
        JSON.stringify(handed),
      );
      assert.equal(log.filter((l) => l.msg === "secrets refused").length, 0);
      assert.ok(!log.some((l) => /plain HTTP/.test(l.msg)), "no clear-text warning with TLS");
    } finally {
      await trusting.close();
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
