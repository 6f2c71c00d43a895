import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretVault } from "../../../src/framework/secrets/vault.js";
import { Secret } from "../../../src/common/secret.js";

test("a token is traded once for exactly the secrets it was issued for", () => {
  const vault = new SecretVault({
    secrets: { adminPassword: new Secret("S3cret!", "env"), other: new Secret("x", "env") },
  });
  const token = vault.issue(["adminPassword"], "mdm-cluster on agent S1");
  assert.ok(token.length >= 32);
  assert.ok(!token.includes("S3cret"));
  assert.deepEqual(vault.redeem(token), {
    values: { adminPassword: "S3cret!" },
    purpose: "mdm-cluster on agent S1",
  });
  assert.equal(vault.redeem(token), undefined, "single use");
  assert.equal(vault.outstanding, 0);
});

test("expired, unknown and malformed tokens get nothing", () => {
  let now = 1000;
  const vault = new SecretVault({
    secrets: { adminPassword: new Secret("pw", "env") },
    ttlMs: 100,
    now: () => now,
  });
  const token = vault.issue(["adminPassword"], "t");
  now += 101;
  assert.equal(vault.redeem(token), undefined);
  assert.equal(vault.redeem("x".repeat(40)), undefined);
  assert.equal(vault.redeem(""), undefined);
  assert.equal(vault.redeem(undefined as unknown as string), undefined);
});

test("issuing a token for a secret that is not configured is refused", () => {
  const vault = new SecretVault({ secrets: { adminPassword: undefined } });
  assert.throws(() => vault.issue(["adminPassword"], "t"), /not configured/);
});

test("the vault never shows a secret when printed", () => {
  const vault = new SecretVault({ secrets: { adminPassword: new Secret("hunter2", "env") } });
  vault.issue(["adminPassword"], "t");
  assert.ok(!JSON.stringify(vault).includes("hunter2"));
});
