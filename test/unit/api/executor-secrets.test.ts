// The secrets endpoint as executors meet it: tokens bound to their task and agent, refusals
// logged with their reason (never the token) and rate-limited, and the API over HTTPS.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Agent, fetch } from "undici";
import { buildApiServer } from "../../../src/api/server.js";
import type { SecretsRefusal } from "../../../src/api/routes/executor.js";
import { SecretVault } from "../../../src/framework/secrets/vault.js";
import { Secret } from "../../../src/common/secret.js";
import { makeCert } from "../../../sim/scaleio/gateway/tls.js";

const PW = "Adm1n-pw";

function setup(agentIp = "127.0.0.1", tls?: { cert: string; key: string }) {
  const vault = new SecretVault({
    secrets: { adminPassword: new Secret(PW, "env") },
    addressOf: (id) => (id === "S1" ? agentIp : undefined),
  });
  const refused: SecretsRefusal[] = [];
  const app = buildApiServer({
    version: "0.1.0",
    vault,
    health: { subscribed: () => true, checkStore: async () => {} },
    onSecretsRefused: (r) => refused.push(r),
    ...(tls ? { tls } : {}),
  });
  const issue = () =>
    vault.issue(["adminPassword"], "deploy/mdm-cluster", { taskId: "deploy_mdm.1", agentId: "S1" });
  return { app, vault, refused, issue };
}

const get = (app: ReturnType<typeof setup>["app"], token: string, taskId?: string) =>
  app.inject({
    url: "/v1/executor/secrets",
    remoteAddress: "127.0.0.1",
    headers: {
      authorization: `Bearer ${token}`,
      ...(taskId ? { "x-scaleio-task-id": taskId } : {}),
    },
  });

test("a token shown with another task id is refused, logged with the reason, and spent", async () => {
  const { app, refused, issue } = setup();
  const token = issue();
  const wrong = await get(app, token, "deploy_sds.1");
  assert.equal(wrong.statusCode, 401);
  assert.ok(!wrong.body.includes(PW));
  assert.deepEqual(refused, [
    {
      reason: "wrong-task",
      remote: "127.0.0.1",
      taskId: "deploy_sds.1",
      purpose: "deploy/mdm-cluster",
    },
  ]);
  assert.ok(!JSON.stringify(refused).includes(token), "the token is never logged");
  assert.equal((await get(app, token, "deploy_mdm.1")).statusCode, 401, "spent");

  const fresh = issue();
  const ok = await get(app, fresh, "deploy_mdm.1");
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { adminPassword: PW });
});

test("a token redeemed from another address than its agent's is refused and logged", async () => {
  // The agent is 10.1.2.3; the caller (a tap on the stream) is 127.0.0.1.
  const { app, refused, issue } = setup("10.1.2.3");
  const r = await get(app, issue(), "deploy_mdm.1");
  assert.equal(r.statusCode, 401);
  assert.equal(refused[0]?.reason, "wrong-address");
  assert.equal(refused[0]?.remote, "127.0.0.1");
});

test("refused redemptions are rate-limited per address (429), and logged once while limited", async () => {
  const { app, refused, issue } = setup();
  for (let i = 0; i < 5; i++)
    assert.equal((await get(app, `guess-${i}-${"z".repeat(20)}`, "x")).statusCode, 401);
  const good = issue();
  const limited = await get(app, good, "deploy_mdm.1");
  assert.equal(limited.statusCode, 429);
  assert.ok(Number(limited.headers["retry-after"]) > 0);
  assert.equal((await get(app, good, "deploy_mdm.1")).statusCode, 429);
  assert.deepEqual(
    refused.map((r) => r.reason),
    [...Array<string>(5).fill("unknown-or-used"), "rate-limited"],
  );
});

test("with a certificate and key the API serves HTTPS, verifiable with its CA", async () => {
  const tls = await makeCert("127.0.0.1");
  const { app, issue } = setup("127.0.0.1", tls);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const trusting = new Agent({ connect: { ca: tls.cert } });
  try {
    const health = await fetch(`${base}/health`, { dispatcher: trusting });
    assert.equal(health.status, 200);
    const secrets = await fetch(`${base}/v1/executor/secrets`, {
      dispatcher: trusting,
      headers: { authorization: `Bearer ${issue()}`, "x-scaleio-task-id": "deploy_mdm.1" },
    });
    assert.equal(secrets.status, 200);
    assert.deepEqual(await secrets.json(), { adminPassword: PW });
    // Plain HTTP on the same port gets no answer, and a client without the CA refuses it.
    await assert.rejects(fetch(`${base.replace("https", "http")}/health`));
    await assert.rejects(fetch(`${base}/health`), /fetch failed/);
  } finally {
    await trusting.close();
    await app.close();
  }
});
