// `scaleio-framework node maintenance <agentId> --enter|--exit` (the real CLI, a child
// process) against an operator API whose platform decides: the answer printed (exit 0), a
// refusal's reason on stderr (exit 1), neither or both flags a usage error (exit 2).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  GatedPlatform,
  operatorFixture,
  TOKEN,
  type OperatorFixture,
} from "../../support/operator-fixture.js";

const CLI = fileURLToPath(new URL("../../../bin/scaleio-framework", import.meta.url));

class MaintainedPlatform extends GatedPlatform {
  override nodeInfo(agentId: string) {
    const info = super.nodeInfo(agentId);
    return agentId === "agent-0"
      ? { ...info, maintenance: { state: "entering" as const, by: "mesos", since: 1 } }
      : info;
  }
  async setMaintenance(agentId: string, enter: boolean) {
    if (agentId === "agent-1")
      throw Object.assign(new Error("SDS sds0 of PD pd1 is already in maintenance"), {
        statusCode: 409,
        code: "MAINTENANCE_REFUSED",
      });
    return {
      state: enter ? "entering" : "exiting",
      message: `${agentId}: ${enter ? "entering" : "leaving"} maintenance`,
    };
  }
}

let f: OperatorFixture;
let api: string;
let tokenFile: string;

before(async () => {
  f = await operatorFixture({ platform: new MaintainedPlatform() });
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  api = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
  tokenFile = join(mkdtempSync(join(tmpdir(), "cli-maint-")), "token");
  writeFileSync(tokenFile, TOKEN);
});
after(async () => {
  await f.close();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args, "--api", api, "--token-file", tokenFile],
      { env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("node maintenance: enter, exit, a refusal with its reason, usage errors", async () => {
  const enter = await cli(["node", "maintenance", "agent-0", "--enter"]);
  assert.equal(enter.code, 0, enter.stderr);
  assert.equal(enter.stdout.trim(), "agent-0: entering maintenance");
  const exit = await cli(["node", "maintenance", "agent-0", "--exit", "--json"]);
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(JSON.parse(exit.stdout), {
    state: "exiting",
    message: "agent-0: leaving maintenance",
  });
  const nodes = await cli(["nodes"]);
  assert.match(nodes.stdout, /^host-0 .* maintenance: entering/m);
  assert.doesNotMatch(nodes.stdout, /^host-1 .* maintenance/m);
  const refused = await cli(["node", "maintenance", "agent-1", "--enter"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SDS sds0 of PD pd1 is already in maintenance/);
  for (const flags of [[], ["--enter", "--exit"]]) {
    const usage = await cli(["node", "maintenance", "agent-0", ...flags]);
    assert.equal(usage.code, 2, `${flags.join(" ")}: ${usage.stderr}`);
    assert.match(usage.stderr, /--enter or --exit/);
  }
});
