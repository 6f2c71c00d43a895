// The operator verbs of the real CLI (bin/scaleio-framework, a child process) against an
// operator API served over a real scheduler core: text and JSON output, and the exit codes
// scripts rely on (0 ok, 1 API error, 2 usage, 3 not healthy, 4 token refused).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
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
  assert.match(text.stdout, /host-0 +install\/agent-0 +IN_PROGRESS +1 +waiting for the test/);
});

test("changes with the token; refused without (4); unknown ids (1); usage errors (2)", async () => {
  const tokenFile = join(f.dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const refused = await cli(["plan", "pause", "deploy", "--api", api]);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /^error: 401: missing bearer token/);
  // Says how to give one, in the CLI's words, not HTTP's.
  assert.match(
    refused.stderr,
    /no API token was given; give the scheduler's API token with --token-file FILE or SCALEIO_FRAMEWORK_API_TOKEN/,
  );
  const wrong = await cli(["plan", "pause", "deploy", "--api", api], {
    SCALEIO_FRAMEWORK_API_TOKEN: "wrong",
  });
  assert.equal(wrong.code, 4);
  assert.match(wrong.stderr, /the token from SCALEIO_FRAMEWORK_API_TOKEN was refused/);
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
  // The list shows a paused phase, not only a paused plan.
  const listed = await cli(["plan", "list", "--api", api]);
  assert.match(listed.stdout, /^deploy .* phase verify /m);
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

test("--api pointing at something that is not the scheduler says so", async () => {
  const other = createServer((req, res) => {
    if (req.url?.startsWith("/v1/summary")) {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>a web page</html>");
    } else res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
  });
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    for (const args of [["status"], ["plan", "list"]]) {
      const r = await cli([...args, "--api", url]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(
        r.stderr,
        /answers .*not as the scaleio-framework scheduler's API does: is --api the URL the scheduler prints/,
        args.join(" "),
      );
    }
  } finally {
    await new Promise((r) => other.close(r));
  }
});
