import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretVault, normalizeAddress } from "../../../src/framework/secrets/vault.js";
import { Secret } from "../../../src/common/secret.js";

const secrets = { adminPassword: new Secret("S3cret!", "env") };

test("a token is traded once for exactly the secrets it was issued for", () => {
  const vault = new SecretVault({
    secrets: { adminPassword: new Secret("S3cret!", "env"), other: new Secret("x", "env") },
  });
  const token = vault.issue(["adminPassword"], "mdm-cluster on agent S1");
  assert.ok(token.length >= 32);
  assert.ok(!token.includes("S3cret"));
  assert.deepEqual(vault.redeem(token), {
    ok: true,
    values: { adminPassword: "S3cret!" },
    purpose: "mdm-cluster on agent S1",
  });
  assert.deepEqual(vault.redeem(token), {
    ok: false,
    reason: "unknown-or-used",
    worthLogging: true,
  });
  assert.equal(vault.outstanding, 0);
});

test("expired, unknown and malformed tokens get nothing, and say why", () => {
  let now = 1000;
  const vault = new SecretVault({ secrets, ttlMs: 100, now: () => now });
  const token = vault.issue(["adminPassword"], "t");
  now += 101;
  const reason = (t: string) => {
    const o = vault.redeem(t);
    return o.ok ? "ok" : o.reason;
  };
  assert.equal(reason(token), "expired");
  assert.equal(reason("x".repeat(40)), "unknown-or-used");
  assert.equal(reason(""), "malformed");
  assert.equal(reason(undefined as unknown as string), "malformed");
});

test("a bound token is refused with the wrong task id or from another address, and is spent", () => {
  const addresses: Record<string, string> = { S1: "10.0.0.5", S2: "agent-2.example" };
  const vault = new SecretVault({ secrets, addressOf: (id) => addresses[id] });
  const bound = (agentId = "S1") =>
    vault.issue(["adminPassword"], `deploy/mdm/${agentId}`, { taskId: "deploy_mdm.1", agentId });
  const reason = (token: string, taskId?: string, address?: string) => {
    const o = vault.redeem(token, { taskId, address });
    return o.ok ? "ok" : o.reason;
  };

  // Whoever saw the task data has the token, but not the task's agent address.
  const stolen = bound();
  assert.equal(reason(stolen, "deploy_mdm.1", "10.0.0.66"), "wrong-address");
  assert.equal(reason(stolen, "deploy_mdm.1", "10.0.0.5"), "unknown-or-used", "spent");
  const noTask = bound();
  assert.equal(reason(noTask, undefined, "10.0.0.5"), "wrong-task");
  const otherTask = bound();
  assert.equal(reason(otherTask, "deploy_sds.1", "10.0.0.5"), "wrong-task");
  const noAddress = bound();
  assert.equal(reason(noAddress, "deploy_mdm.1", undefined), "wrong-address");

  // The executor of that task on that agent gets it (an IPv4-mapped address is the same IP).
  const good = bound();
  const o = vault.redeem(good, { taskId: "deploy_mdm.1", address: "::ffff:10.0.0.5" });
  assert.ok(o.ok);
  assert.equal(o.values.adminPassword, "S3cret!");

  // An agent known by host name only, or not at all: the address is not checked.
  assert.equal(reason(bound("S2"), "deploy_mdm.1", "10.9.9.9"), "ok");
  assert.equal(reason(bound("S3"), "deploy_mdm.1", "10.9.9.9"), "ok");
  assert.equal(normalizeAddress("::FFFF:127.0.0.3"), "127.0.0.3");
  assert.equal(normalizeAddress("::1"), "::1");
});

test("an address that keeps failing is refused for a while, even with a good token", () => {
  let now = 0;
  const vault = new SecretVault({
    secrets,
    failures: { max: 3, windowMs: 60_000 },
    now: () => now,
  });
  const attacker = "10.0.0.66";
  for (let i = 0; i < 3; i++) {
    const o = vault.redeem("y".repeat(32), { address: attacker });
    assert.equal(o.ok ? "ok" : o.reason, "unknown-or-used");
  }
  const good = vault.issue(["adminPassword"], "t");
  const limited = vault.redeem(good, { address: attacker });
  assert.equal(limited.ok, false);
  assert.ok(!limited.ok && limited.reason === "rate-limited" && limited.worthLogging);
  assert.ok(!limited.ok && limited.retryAfterMs! > 0 && limited.retryAfterMs! <= 60_000);
  const again = vault.redeem(good, { address: attacker });
  assert.ok(!again.ok && again.reason === "rate-limited" && !again.worthLogging, "logged once");
  // Other addresses are not affected, and the token was not spent by the refused attempts.
  assert.ok(vault.redeem(vault.issue(["adminPassword"], "u"), { address: "10.0.0.5" }).ok);
  now += 60_000;
  assert.ok(vault.redeem(good, { address: attacker }).ok, "the window is over");
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
