import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  readExecutorEnvironment,
  DEFAULT_RECOVERY_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_GRACE_PERIOD_MS,
  DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS,
} from "../../../../src/mesos/executor/environment.js";
import { ExecutorEnvironmentError, MesosConfigError } from "../../../../src/mesos/errors.js";

const BASE = {
  MESOS_FRAMEWORK_ID: "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-0007",
  MESOS_EXECUTOR_ID: "bs-exec-node-a",
  MESOS_AGENT_ENDPOINT: "10.0.0.3:5051",
  MESOS_SLAVE_ID: "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-S3",
  MESOS_DIRECTORY: "/var/lib/mesos/slaves/S3/frameworks/F/executors/E/runs/R",
  MESOS_SANDBOX: "/mnt/mesos/sandbox",
  MESOS_CHECKPOINT: "1",
  MESOS_RECOVERY_TIMEOUT: "15mins",
  MESOS_SUBSCRIPTION_BACKOFF_MAX: "2secs",
  MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "5secs",
};

function badValue(env: Record<string, string | undefined>, variable: string, value?: string) {
  assert.throws(
    () => readExecutorEnvironment(env),
    (err: unknown) => {
      assert.ok(err instanceof ExecutorEnvironmentError, String(err));
      assert.ok(err instanceof MesosConfigError);
      assert.equal(err.code, "CONFIG");
      assert.equal(err.variable, variable);
      assert.match(err.message, new RegExp(variable));
      if (value !== undefined) assert.ok(err.message.includes(`'${value}'`), err.message);
      return true;
    },
  );
}

test("reads a complete agent-provided environment", () => {
  const env = readExecutorEnvironment(BASE);
  assert.equal(env.frameworkId, BASE.MESOS_FRAMEWORK_ID);
  assert.equal(env.executorId, "bs-exec-node-a");
  assert.equal(env.agentId, BASE.MESOS_SLAVE_ID);
  assert.equal(env.agentEndpoint, "10.0.0.3:5051");
  assert.equal(env.agentUrl, "http://10.0.0.3:5051/api/v1/executor");
  assert.equal(env.sandbox, "/mnt/mesos/sandbox");
  assert.equal(env.directory, BASE.MESOS_DIRECTORY);
  assert.equal(env.checkpoint, true);
  assert.equal(env.recoveryTimeoutMs, 15 * 60_000);
  assert.equal(env.subscriptionBackoffMaxMs, 2000);
  assert.equal(env.shutdownGracePeriodMs, 5000);
  assert.equal(env.authenticationToken, undefined);
});

test("durations in Mesos syntax, including fractions", () => {
  const env = readExecutorEnvironment({
    ...BASE,
    MESOS_SUBSCRIPTION_BACKOFF_MAX: "1.5secs",
    MESOS_RECOVERY_TIMEOUT: "250ms",
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "1mins",
  });
  assert.equal(env.subscriptionBackoffMaxMs, 1500);
  assert.equal(env.recoveryTimeoutMs, 250);
  assert.equal(env.shutdownGracePeriodMs, 60_000);
});

test("defaults: 15mins, 2secs, 5secs; no MESOS_SANDBOX falls back to MESOS_DIRECTORY", () => {
  const env = readExecutorEnvironment({
    MESOS_FRAMEWORK_ID: "fw",
    MESOS_EXECUTOR_ID: "ex",
    MESOS_AGENT_ENDPOINT: "127.0.0.1:5051",
    MESOS_DIRECTORY: "/tmp/sandbox",
    MESOS_CHECKPOINT: "0",
  });
  assert.equal(env.checkpoint, false);
  assert.equal(env.recoveryTimeoutMs, DEFAULT_RECOVERY_TIMEOUT_MS);
  assert.equal(env.subscriptionBackoffMaxMs, DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS);
  assert.equal(env.shutdownGracePeriodMs, DEFAULT_SHUTDOWN_GRACE_PERIOD_MS);
  assert.equal(env.sandbox, "/tmp/sandbox");
  assert.equal(DEFAULT_RECOVERY_TIMEOUT_MS, 900_000);
  assert.equal(DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS, 2000);
  assert.equal(DEFAULT_SHUTDOWN_GRACE_PERIOD_MS, 5000);
});

test("bad durations name the variable and the value", () => {
  badValue({ ...BASE, MESOS_RECOVERY_TIMEOUT: "abc" }, "MESOS_RECOVERY_TIMEOUT", "abc");
  badValue({ ...BASE, MESOS_SUBSCRIPTION_BACKOFF_MAX: "2" }, "MESOS_SUBSCRIPTION_BACKOFF_MAX", "2");
  badValue(
    { ...BASE, MESOS_SUBSCRIPTION_BACKOFF_MAX: "0secs" },
    "MESOS_SUBSCRIPTION_BACKOFF_MAX",
    "0secs",
  );
  badValue(
    { ...BASE, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "5 seconds" },
    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
    "5 seconds",
  );
  badValue({ ...BASE, MESOS_RECOVERY_TIMEOUT: "-1secs" }, "MESOS_RECOVERY_TIMEOUT", "-1secs");
});

test("missing or invalid ids", () => {
  badValue({ ...BASE, MESOS_FRAMEWORK_ID: undefined }, "MESOS_FRAMEWORK_ID");
  badValue({ ...BASE, MESOS_EXECUTOR_ID: "" }, "MESOS_EXECUTOR_ID");
  badValue({ ...BASE, MESOS_EXECUTOR_ID: "a/b" }, "MESOS_EXECUTOR_ID", "a/b");
  badValue({ ...BASE, MESOS_EXECUTOR_ID: ".." }, "MESOS_EXECUTOR_ID", "..");
  badValue({ ...BASE, MESOS_FRAMEWORK_ID: "x".repeat(256) }, "MESOS_FRAMEWORK_ID");
  assert.throws(
    () => readExecutorEnvironment({ ...BASE, MESOS_FRAMEWORK_ID: undefined }),
    /MESOS_FRAMEWORK_ID \(unset\) is required/,
  );
});

test("MESOS_CHECKPOINT must be 1 or 0", () => {
  badValue({ ...BASE, MESOS_CHECKPOINT: "true" }, "MESOS_CHECKPOINT", "true");
  badValue({ ...BASE, MESOS_CHECKPOINT: "yes" }, "MESOS_CHECKPOINT", "yes");
  assert.equal(readExecutorEnvironment({ ...BASE, MESOS_CHECKPOINT: undefined }).checkpoint, false);
});

test("agent endpoint: ip:port, IPv6 in brackets, MESOS_SLAVE_PID fallback", () => {
  assert.equal(
    readExecutorEnvironment({ ...BASE, MESOS_AGENT_ENDPOINT: "[::1]:5051" }).agentUrl,
    "http://[::1]:5051/api/v1/executor",
  );
  const fromPid = readExecutorEnvironment({
    ...BASE,
    MESOS_AGENT_ENDPOINT: undefined,
    MESOS_SLAVE_PID: "slave(1)@10.0.0.4:5051",
  });
  assert.equal(fromPid.agentEndpoint, "10.0.0.4:5051");
  badValue({ ...BASE, MESOS_AGENT_ENDPOINT: "10.0.0.3" }, "MESOS_AGENT_ENDPOINT", "10.0.0.3");
  badValue({ ...BASE, MESOS_AGENT_ENDPOINT: "10.0.0.3:99999" }, "MESOS_AGENT_ENDPOINT");
  badValue({ ...BASE, MESOS_AGENT_ENDPOINT: "http://h:1" }, "MESOS_AGENT_ENDPOINT");
  badValue({ ...BASE, MESOS_AGENT_ENDPOINT: undefined }, "MESOS_AGENT_ENDPOINT");
  badValue(
    { ...BASE, MESOS_AGENT_ENDPOINT: undefined, MESOS_SLAVE_PID: "10.0.0.4:5051" },
    "MESOS_SLAVE_PID",
  );
});

test("https when libprocess runs with SSL", () => {
  const env = readExecutorEnvironment({ ...BASE, LIBPROCESS_SSL_ENABLED: "true" });
  assert.equal(env.agentUrl, "https://10.0.0.3:5051/api/v1/executor");
});

test("the authentication token is available but never serialised", () => {
  const secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWNsYWltcw.c2lnbmF0dXJl";
  const env = readExecutorEnvironment({ ...BASE, MESOS_EXECUTOR_AUTHENTICATION_TOKEN: secret });
  assert.equal(env.authenticationToken, secret);
  const json = JSON.stringify(env);
  assert.ok(!json.includes(secret));
  assert.match(json, /"authenticationToken":"\[redacted\]"/);
  for (const text of [inspect(env), inspect({ nested: env }, { depth: 5 }), String(env)]) {
    assert.ok(!text.includes(secret), text);
  }
  assert.ok(!Object.values({ ...env }).includes(secret));
  // An error about another variable does not leak it either.
  assert.throws(
    () =>
      readExecutorEnvironment({
        ...BASE,
        MESOS_EXECUTOR_AUTHENTICATION_TOKEN: secret,
        MESOS_RECOVERY_TIMEOUT: "abc",
      }),
    (err: Error) => !err.message.includes(secret) && !inspect(err).includes(secret),
  );
});
