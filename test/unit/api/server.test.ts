import { test } from "node:test";
import assert from "node:assert/strict";
import { buildApiServer, versionInt } from "../../../src/api/server.js";
import { SecretVault } from "../../../src/framework/secrets/vault.js";
import { Secret } from "../../../src/common/secret.js";

function setup(subscribed = true, storeOk = true, executorArtifact?: string) {
  const vault = new SecretVault({ secrets: { adminPassword: new Secret("Adm1n-pw", "env") } });
  const audit: string[] = [];
  const app = buildApiServer({
    version: "0.1.0",
    vault,
    ...(executorArtifact ? { executorArtifact } : {}),
    health: {
      subscribed: () => subscribed,
      checkStore: async () => {
        if (!storeOk) throw new Error("EROFS");
      },
    },
    onSecretsIssued: (purpose, names) => audit.push(`${purpose}:${names.join(",")}`),
  });
  return { app, vault, audit };
}

test("health is 200 only when subscribed and the store is writable", async () => {
  assert.equal((await setup().app.inject({ url: "/health" })).statusCode, 200);
  const r = await setup(false, false).app.inject({ url: "/health" });
  assert.equal(r.statusCode, 503);
  assert.deepEqual(r.json().problems, [
    "not subscribed to Mesos",
    "state store not writable: EROFS",
  ]);
});

test("version keeps the predecessor's fields", async () => {
  const r = await setup().app.inject({ url: "/version" });
  assert.deepEqual(r.json(), { versionint: 100, versionstr: "0.1.0", version: "0.1.0" });
  assert.equal(versionInt("1.2.3"), 10203);
});

test("the predecessor's /api/state is gone, and says where its parts live now", async () => {
  const r = await setup().app.inject({ url: "/api/state" });
  assert.equal(r.statusCode, 410);
  const body = r.json() as { error: string; successors: string[] };
  assert.deepEqual(body.successors, ["/v1/summary", "/v1/nodes", "/v1/plans"]);
  assert.match(body.error, /2017 scheduler's.*\/v1\/summary/);
  assert.doesNotMatch(r.body, /Adm1n-pw/, "its password field is not carried over");
});

test("secrets: a valid token once, then 401; garbage is 401; values never cached", async () => {
  const { app, vault, audit } = setup();
  const token = vault.issue(["adminPassword"], "mdm-cluster/S1");
  const ok = await app.inject({
    url: "/v1/executor/secrets",
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { adminPassword: "Adm1n-pw" });
  assert.equal(ok.headers["cache-control"], "no-store");
  assert.deepEqual(audit, ["mdm-cluster/S1:adminPassword"]);
  const again = await app.inject({
    url: "/v1/executor/secrets",
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(again.statusCode, 401);
  assert.ok(!again.body.includes("Adm1n"));
  for (const h of [
    undefined,
    "Bearer nope",
    "Basic YWRtaW46YWRtaW4=",
    `Bearer ${"x".repeat(300)}`,
  ]) {
    const r = await app.inject({
      url: "/v1/executor/secrets",
      headers: h ? { authorization: h } : {},
    });
    assert.equal(r.statusCode, 401);
    assert.match(r.headers["www-authenticate"] as string, /Bearer/);
  }
});

test("unknown routes are JSON 404s", async () => {
  const r = await setup().app.inject({ url: "/nope?x=1" });
  assert.equal(r.statusCode, 404);
  assert.deepEqual(r.json(), { error: "no route GET /nope" });
});

test("the executor artifact is served at a versioned path, or a clear 404 when not built", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const file = join(mkdtempSync(join(tmpdir(), "art-")), "scaleio-executor");
  writeFileSync(file, Buffer.alloc(4096, 7));
  const r = await setup(true, true, file).app.inject({
    url: "/v1/artifacts/0.1.0/scaleio-executor",
  });
  assert.equal(r.statusCode, 200);
  assert.equal(r.rawPayload.length, 4096);
  assert.equal(r.headers["content-type"], "application/octet-stream");
  const missing = await setup(true, true, join(tmpdir(), "nope-executor")).app.inject({
    url: "/v1/artifacts/0.1.0/scaleio-executor",
  });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json().error, /npm run build:executor/);
  assert.equal(
    (await setup(true, true, file).app.inject({ url: "/v1/artifacts/9.9.9/scaleio-executor" }))
      .statusCode,
    404,
  );
});
