// The capacity hook: a command gets the request as JSON on stdin and its answer is recorded;
// a URL gets it as a POST; calls for one pool back off until the pool settles; a failing or
// hanging hook is an answer, not an exception.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CapacityHook,
  suggestedGrowthGb,
  type CapacityRequest,
} from "../../../../src/platforms/scaleio/remediate/capacity-hook.js";

const dir = mkdtempSync(join(tmpdir(), "capacity-hook-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const req: CapacityRequest = {
  pool: "pool/pd/p1",
  protectionDomain: "pd",
  usedPercent: 86.2,
  suggestedGrowthGb: 120,
  candidateAgents: [{ agentId: "A1", hostname: "h1", ip: "127.0.0.2" }],
};

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test("a command hook reads the request on stdin; its exit and output are the answer", async () => {
  const seen = join(dir, "seen.json");
  const cmd = script("grow.sh", `cat > ${seen}; echo attached /dev/sdz`);
  let now = 1000;
  const hook = new CapacityHook({
    target: { command: cmd },
    now: () => now,
    backoff: { initialMs: 60_000, maxMs: 600_000, random: () => 0.999 },
  });
  const call = await hook.call(req);
  assert.ok(call);
  assert.equal(call.ok, true);
  assert.equal(call.answer, "exit 0: attached /dev/sdz");
  assert.deepEqual(JSON.parse(readFileSync(seen, "utf8")), req);
  assert.equal(hook.due(req.pool), false, "backing off after a call");
  assert.equal(await hook.call(req), undefined);
  assert.equal(hook.due("pool/pd/other"), true, "other pools are independent");
  now = call.nextAt;
  const second = await hook.call(req);
  assert.ok(second);
  assert.ok(second.nextAt - now > call.nextAt - 1000, "the wait grows");
  hook.settled(req.pool);
  assert.equal(hook.due(req.pool), true, "a settled pool starts afresh");
});

test("a failing or hanging command is an answer that says so", async () => {
  const fail = new CapacityHook({
    target: { command: script("no.sh", "echo no disks >&2; exit 3") },
  });
  const a = await fail.call(req);
  assert.equal(a!.ok, false);
  assert.equal(a!.answer, "exit 3: no disks");
  const missing = new CapacityHook({ target: { command: join(dir, "absent") } });
  const b = await missing.call(req);
  assert.equal(b!.ok, false);
  assert.match(b!.answer, /failed: .*(ENOENT|absent)/);
  const hang = new CapacityHook({
    target: { command: script("hang.sh", "exec sleep 30") },
    timeoutMs: 200,
  });
  const c = await hang.call(req);
  assert.equal(c!.ok, false);
  assert.match(c!.answer, /SIGKILL|SIGTERM|timed out/);
});

test("a URL hook gets the request as a JSON POST", async () => {
  let got: unknown;
  const srv = createServer((r, res) => {
    let b = "";
    r.on("data", (d: Buffer) => (b += d.toString()));
    r.on("end", () => {
      got = { method: r.method, type: r.headers["content-type"], body: JSON.parse(b) };
      res.writeHead(202).end("queued");
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  try {
    const hook = new CapacityHook({ target: { url: `http://127.0.0.1:${port}/grow` } });
    const call = await hook.call(req);
    assert.equal(call!.ok, true);
    assert.equal(call!.answer, "HTTP 202: queued");
    assert.deepEqual(got, { method: "POST", type: "application/json", body: req });
  } finally {
    srv.close();
  }
});

test("suggested growth brings use back to the target", () => {
  // 300 GiB raw, 34 % spare: 198 GiB non-spare; 170 GiB in use is 85.9 %.
  const gb = suggestedGrowthGb({
    inUseKb: 170 * 2 ** 20,
    limitKb: 300 * 2 ** 20,
    sparePercentage: 34,
    targetPercent: 70,
  });
  const nonSpare = (300 + gb) * 0.66;
  assert.ok(170 / nonSpare <= 0.7 + 1e-9, `${gb} GiB is enough`);
  assert.ok(170 / ((300 + gb - 1) * 0.66) > 0.7, `${gb} GiB is not more than needed`);
  assert.equal(
    suggestedGrowthGb({
      inUseKb: 1,
      limitKb: 300 * 2 ** 20,
      sparePercentage: 34,
      targetPercent: 70,
    }),
    1,
  );
});

test("a command hook never inherits the scheduler's secrets from its environment", async () => {
  const seen = join(dir, "env.txt");
  const cmd = script("env.sh", `env > ${seen}`);
  const saved = process.env.SCALEIO_ADMIN_PASSWORD;
  process.env.SCALEIO_ADMIN_PASSWORD = "Adm1n-leak-check";
  try {
    const hook = new CapacityHook({ target: { command: cmd }, env: { HOOK_EXTRA: "yes" } });
    assert.equal((await hook.call(req))!.ok, true);
  } finally {
    if (saved === undefined) delete process.env.SCALEIO_ADMIN_PASSWORD;
    else process.env.SCALEIO_ADMIN_PASSWORD = saved;
  }
  const env = readFileSync(seen, "utf8");
  assert.doesNotMatch(env, /Adm1n-leak-check|SCALEIO_ADMIN_PASSWORD/);
  assert.match(env, /^HOOK_EXTRA=yes$/m);
  assert.match(env, /^PATH=/m, "a command still finds its programs");
});

test("pools with one name in two protection domains back off apart (by pool id)", async () => {
  const hook = new CapacityHook({ target: { command: script("ok.sh", "exit 0") } });
  const a = { ...req, pool: "p1", poolId: "id-a", protectionDomain: "pd1" };
  const b = { ...req, pool: "p1", poolId: "id-b", protectionDomain: "pd2" };
  assert.ok(await hook.call(a));
  assert.equal(hook.due("id-a"), false);
  assert.ok(await hook.call(b), "the other domain's pool is called too");
  hook.settled("id-a");
  assert.equal(hook.due("id-a"), true);
  assert.equal(hook.due("id-b"), false);
});
