// The operator verbs of the real CLI (bin/scaleio-framework, a child process) against an
// operator API served over a real scheduler core: text and JSON output, and the exit codes
// scripts rely on (0 ok, 1 API error, 2 usage, 3 not healthy, 4 token refused).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { operatorFixture, TOKEN, type OperatorFixture } from "../../support/operator-fixture.js";

const CLI = fileURLToPath(new URL("../../../bin/scaleio-framework", import.meta.url));
let f: OperatorFixture;
let api: string;

before(async () => {
  f = await operatorFixture();
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  api = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await f.close();
});

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("status, nodes and plans as text and JSON; status exits 3 while not healthy", async () => {
  const status = await cli(["status", "--api", api]);
  assert.equal(status.code, 3);
  assert.match(status.stdout, /^health: +deploying$/m);
  assert.match(status.stdout, /- not subscribed to Mesos/);
  const json = await cli(["status", "--json"], { SCALEIO_FRAMEWORK_API: api });
  assert.equal(json.code, 3);
  assert.equal(JSON.parse(json.stdout).plans[0].id, "deploy");
  const nodes = await cli(["nodes", "--api", api]);
  assert.equal(nodes.code, 0, nodes.stderr);
  const lines = nodes.stdout.trim().split("\n");
  assert.match(lines[0]!, /^HOST +IP +ROLES +DEVICES +VERSIONS +STEPS +STATE +LAST ERROR$/);
  assert.match(lines[1]!, /^host-0 +host-0 +sds,sdc +\/dev\/sdb +- +0\/1 +install on host-0/);
  const list = await cli(["plan", "list", "--api", api]);
  assert.match(list.stdout, /^deploy +IN_PROGRESS +0\/3 +no +Deploy$/m);
  const show = await cli(["plan", "show", "deploy", "--api", api, "--json"]);
  assert.equal(JSON.parse(show.stdout).phases.length, 2);
  const text = await cli(["plan", "show", "deploy", "--api", api]);
  assert.match(text.stdout, /phase install \(install\): IN_PROGRESS/);
  assert.match(text.stdout, /install\/agent-0 +IN_PROGRESS +1 +waiting for the test/);
});

test("changes with the token; refused without (4); unknown ids (1); usage errors (2)", async () => {
  const tokenFile = join(f.dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const refused = await cli(["plan", "pause", "deploy", "--api", api]);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /^error: 401: missing bearer token/);
  const wrong = await cli(["plan", "pause", "deploy", "--api", api], {
    SCALEIO_FRAMEWORK_API_TOKEN: "wrong",
  });
  assert.equal(wrong.code, 4);
  const paused = await cli([
    "plan",
    "pause",
    "deploy",
    "--phase",
    "verify",
    "--api",
    api,
    "--token-file",
    tokenFile,
  ]);
  assert.equal(paused.code, 0, paused.stderr);
  assert.equal(f.sched.engine.view("deploy").phases[1]!.paused, true);
  const resumed = await cli(["plan", "resume", "deploy", "--api", api], {
    SCALEIO_FRAMEWORK_API_TOKEN: TOKEN,
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(f.sched.engine.view("deploy").phases[1]!.paused, false);
  const forced = await cli(
    ["plan", "force-complete", "deploy", "install/agent-1", "--api", api, "--json"],
    { SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
  );
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).phases[0].steps[1].forced, true);
  const unknown = await cli(["plan", "restart", "deploy", "nope", "--api", api], {
    SCALEIO_FRAMEWORK_API_TOKEN: TOKEN,
  });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /404: plan 'deploy' has no step 'nope'/);
  assert.equal((await cli(["plan", "show", "nope", "--api", api])).code, 1);
  assert.equal((await cli(["nodes", "--api", "http://127.0.0.1:9"])).code, 1);
  assert.equal((await cli(["plan", "restart", "deploy", "--api", api])).code, 2);
  assert.equal((await cli(["plan", "frobnicate"])).code, 2);
  assert.equal((await cli(["status", "--api", "ftp://x"])).code, 2);
  assert.equal((await cli(["status", "--api", api, "--token-file", "/nonexistent"])).code, 2);
  const events = await cli(["events", "--api", api]);
  assert.equal(events.code, 0, events.stderr);
  assert.match(events.stdout, /info +operator paused deploy phase verify/);
  assert.match(events.stdout, /step +deploy: install on host-1 COMPLETE/);
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit codes of the operator verbs/);
});
