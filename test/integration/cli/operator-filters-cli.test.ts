// `nodes` and `plan show` with filters (issue 20), through the real CLI (a child process):
// --status and --host narrow what is shown, hosts in natural order, hostnames beside steps,
// finished steps with their final words, bad filters refused with the API's message.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { waitUntil } from "../../support/wait.js";

const CLI = fileURLToPath(new URL("../../../bin/scaleio-framework", import.meta.url));
let f: OperatorFixture;
let api: string;

before(async () => {
  f = await operatorFixture({ agents: 12 });
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  api = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  f.platform.release("agent-10");
  await waitUntil(() => f.view.node("agent-10")!.steps[0]!.status === "COMPLETE");
});
after(async () => {
  await f.close();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args, "--api", api],
      { env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const hostsOf = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(/ +/)[0]);

test("nodes: natural order; --status and --host narrow the list", async () => {
  const all = await cli(["nodes"]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(hostsOf(all.stdout).slice(8), ["host-8", "host-9", "host-10", "host-11"]);
  const running = await cli(["nodes", "--status", "in-progress", "--host", "host-1*"]);
  assert.deepEqual(hostsOf(running.stdout), ["host-1", "host-11"]);
  const done = await cli(["nodes", "--status", "ok"]);
  assert.deepEqual(hostsOf(done.stdout), ["host-10"]);
  const none = await cli(["nodes", "--status", "error"]);
  assert.equal(none.stdout.trim(), "no agents match");
  const bad = await cli(["nodes", "--status", "broken"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /status: takes error, lost, in-progress, ok/);
});

test("plan show: hostnames beside steps, final texts, --status and --host", async () => {
  const whole = await cli(["plan", "show", "deploy"]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.match(whole.stdout, /^ +HOST +STEP +STATUS +TRIES +DETAIL$/m);
  assert.match(whole.stdout, /^ +host-3 +install\/agent-3 +IN_PROGRESS +1 +waiting for the test$/m);
  assert.match(whole.stdout, /^ +- +verify\/all +PENDING/m);
  const done = await cli(["plan", "show", "deploy", "--status", "COMPLETE"]);
  assert.match(done.stdout, /^1 step match$/m);
  // Its last words while working were "waiting for the test"; done, it shows its own text
  // (none here: its name).
  assert.match(done.stdout, /^ +host-10 +install\/agent-10 +COMPLETE +1 +install on host-10$/m);
  assert.doesNotMatch(done.stdout, /agent-3/);
  const host = await cli([
    "plan",
    "show",
    "deploy",
    "--host",
    "host-1?",
    "--status",
    "IN_PROGRESS",
  ]);
  assert.match(host.stdout, /^1 step match$/m);
  assert.match(host.stdout, /host-11 +install\/agent-11 +IN_PROGRESS/);
  const json = JSON.parse(
    (await cli(["plan", "show", "deploy", "--host", "host-2", "--json"])).stdout,
  );
  assert.equal(json.phases[0].steps[0].hostname, "host-2");
  assert.deepEqual(json.progress, { complete: 1, total: 13 });
  const bad = await cli(["plan", "show", "deploy", "--status", "DONE"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /status: takes PENDING, IN_PROGRESS, COMPLETE, ERROR/);
});
