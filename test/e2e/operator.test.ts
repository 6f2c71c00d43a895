// The operator surface against the real scheduler on the development cluster (the demo):
// the event stream follows the deploy live, the CLI verbs work with their exit codes,
// /metrics passes `promtool check metrics`, and neither the admin password nor the API token
// appears in any API answer, the event stream, the CLI's output, the logs or the state dir.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemo } from "../../sim/demo/demo.js";
import { promtoolCheckMetrics } from "../support/promtool.js";
import { withDeadline, waitUntil } from "../support/wait.js";

const PASSWORD = "E2e-Adm1n-Passw0rd-7731";
const TOKEN = "e2e-operator-token-5519-abcdef";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(ROOT, "bin", "scaleio-framework");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? "", ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test(
  "operator surface on the real scheduler: live events, CLI, metrics, and no secret anywhere",
  { timeout: 300_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), "operator-e2e-"));
    const logFile = join(work, "scheduler.log");
    const tokenFile = join(work, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    process.env.SCALEIO_ADMIN_PASSWORD = PASSWORD;
    process.env.SCALEIO_FRAMEWORK_API_TOKEN = TOKEN;
    const demo = await startDemo({ agents: 3, out: () => {}, deadlineMs: 180_000, logFile });
    delete process.env.SCALEIO_ADMIN_PASSWORD;
    delete process.env.SCALEIO_FRAMEWORK_API_TOKEN;
    const api = demo.apiUrl;
    const seen: string[] = []; // everything the API said, for the secret sweep
    const ac = new AbortController();
    try {
      // The event stream from the start of the deploy.
      let stream = "";
      const res = await fetch(`${api}/v1/events?history=500`, { signal: ac.signal });
      assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
      const reading = (async () => {
        const dec = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          stream += dec.decode(chunk, { stream: true });
      })().catch(() => {});

      // Not healthy yet while deploying: `status` says so with exit code 3.
      const early = await cli(["status", "--api", api]);
      assert.equal(early.code, 3, early.stderr);
      assert.match(early.stdout, /health: +(deploying|unknown)/);

      await demo.healthy;
      // Steps arrived live, as they completed.
      await waitUntil(
        () => /event: step\ndata: .*"name":"cluster healthy[^"]*".*"COMPLETE"/.test(stream),
        {
          timeoutMs: 30_000,
          what: "the verify step's completion on the stream",
        },
      );
      assert.match(stream, /event: plan\n/);
      assert.match(stream, /event: node\n|event: log\n/);
      // The summary turns healthy after the platform's next observation.
      await waitUntil(
        async () =>
          ((await (await fetch(`${api}/v1/summary`)).json()) as { health: string }).health ===
          "healthy",
        { timeoutMs: 60_000, intervalMs: 500, what: "a healthy summary" },
      );

      // CLI verbs.
      const env = { SCALEIO_FRAMEWORK_API: api };
      const status = await cli(["status"], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /health: +healthy/);
      assert.match(status.stdout, /SDS: +3\/3 ready/);
      assert.match(status.stdout, /SDC: +3\/3 ready/);
      const nodes = await cli(["nodes", "--json"], env);
      assert.equal(nodes.code, 0, nodes.stderr);
      const nodeList = JSON.parse(nodes.stdout).nodes as { agentId: string; roles: string[] }[];
      assert.equal(nodeList.length, 3);
      assert.ok(nodeList.every((n) => n.roles.includes("sds")));
      const show = await cli(["plan", "show", "deploy"], env);
      assert.match(show.stdout, /phase verify/);
      // Changes: refused without the token (4), done with it.
      const refused = await cli(["plan", "pause", "deploy"], env);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /401/);
      const paused = await cli(
        ["plan", "pause", "deploy", "--token-file", tokenFile, "--json"],
        env,
      );
      assert.equal(paused.code, 0, paused.stderr);
      assert.equal(JSON.parse(paused.stdout).paused, true);
      const resumed = await cli(["plan", "resume", "deploy", "--phase", "verify"], {
        ...env,
        SCALEIO_FRAMEWORK_API_TOKEN: TOKEN,
      });
      assert.equal(resumed.code, 0, resumed.stderr);
      // Exit codes for API errors and usage errors are covered by test/integration/cli.
      const recent = await cli(["events"], env);
      assert.equal(recent.code, 0, recent.stderr);
      assert.match(recent.stdout, /operator paused deploy/);
      // events --follow prints what happens while it runs.
      const follow = spawn(
        process.execPath,
        [CLI, "events", "--follow", "--history", "0", "--api", api],
        {
          env: { PATH: process.env.PATH ?? "" },
        },
      );
      let followed = "";
      follow.stdout.on("data", (d: Buffer) => (followed += d.toString()));
      try {
        // Each pause/resume is an event; repeat until the follower has shown one.
        await waitUntil(
          async () => {
            await fetch(`${api}/v1/plans/deploy/pause`, {
              method: "POST",
              headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
              body: JSON.stringify({ phase: "verify" }),
            });
            return /operator paused deploy phase verify/.test(followed);
          },
          { timeoutMs: 30_000, intervalMs: 1000, what: "events --follow to print a new event" },
        );
      } finally {
        follow.kill("SIGTERM");
      }
      seen.push(status.stdout, nodes.stdout, show.stdout, recent.stdout, followed);

      // Metrics of a scheduler that has deployed pass promtool.
      const metrics = await (await fetch(`${api}/metrics`)).text();
      seen.push(metrics);
      assert.match(metrics, /scaleio_framework_plan_status\{plan="deploy",status="COMPLETE"\} 1/);
      assert.match(metrics, /scaleio_framework_offers_received_total [1-9]/);
      assert.match(metrics, /scaleio_framework_operations_total\{type="LAUNCH"\} [1-9]/);
      assert.match(metrics, /scaleio_framework_platform_capacity_bytes\{kind="raw"\} [1-9]/);
      assert.match(metrics, /scaleio_framework_subscribed 1/);
      assert.match(metrics, /scaleio_framework_store_write_seconds_count [1-9]/);
      // A missing promtool fails here at once, with the reason (it used to hang the file).
      const promtool = await promtoolCheckMetrics(metrics);
      assert.equal(promtool.code, 0, promtool.out);

      // Every GET route (and the UI, if served), for the sweep.
      const gets = [
        "/health",
        "/version",
        "/openapi.json",
        "/v1/summary",
        "/v1/nodes",
        "/v1/plans",
      ];
      gets.push(...nodeList.map((n) => `/v1/nodes/${n.agentId}`), "/v1/plans/deploy");
      gets.push("/v1/events/recent", "/", "/ui/");
      for (const path of gets) {
        const r = await fetch(`${api}${path}`, { redirect: "follow" });
        const body = await r.text();
        seen.push(body);
        if (path === "/ui/" && r.ok)
          for (const m of body.matchAll(/(?:href|src)="([^"#?]+)"/g)) {
            const url = new URL(m[1]!, `${api}/ui/`);
            if (url.origin === new URL(api).origin) seen.push(await (await fetch(url)).text());
          }
      }
      ac.abort();
      await withDeadline(reading, 10_000, "the stream to close");
      seen.push(stream);
      assert.ok(stream.length > 1000);

      // The scheduler's state dir, as persisted.
      const stateFiles = filesUnder(join(demo.dir, "scheduler-state"));
      assert.ok(stateFiles.length > 3, "the scheduler persisted its state");
      for (const f of stateFiles) {
        const bytes = readFileSync(f);
        for (const secret of [PASSWORD, TOKEN])
          assert.ok(!bytes.includes(Buffer.from(secret)), `${f} contains a secret`);
      }
    } finally {
      ac.abort();
      await demo.stop().catch(() => {});
    }
    // The sweep: API answers, the stream, the CLI's output and the scheduler's logs.
    const logs = readFileSync(logFile, "utf8");
    assert.ok(logs.length > 1000, "the scheduler logged");
    for (const [what, text] of [
      ["API answers and CLI output", seen.join("\n")],
      ["logs", logs],
    ] as const)
      for (const secret of [PASSWORD, TOKEN])
        assert.ok(!text.includes(secret), `${what} contain a secret`);
    rmSync(work, { recursive: true, force: true });
  },
);
