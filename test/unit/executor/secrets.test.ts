import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import {
  agentLocalAddress,
  fetchSecrets,
  secretsFetcherFromEnv,
} from "../../../src/executor/secrets.js";
import { makeCert } from "../../../sim/scaleio/gateway/tls.js";

test("fetchSecrets: bearer token, single use, Secret values, clear errors", async () => {
  const tokens = new Set(["good-token-0123456789", "junk-token-0123456789"]);
  const server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (req.url !== "/base/v1/executor/secrets" || !tokens.delete(token)) {
      res.writeHead(401).end();
      return;
    }
    res.end(token.startsWith("junk") ? "{" : JSON.stringify({ adminPassword: "pw-123" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  try {
    const s = await fetchSecrets(url, "good-token-0123456789");
    assert.equal(s.adminPassword.reveal(), "pw-123");
    assert.ok(!inspect(s).includes("pw-123") && !JSON.stringify(s).includes("pw-123"));
    await assert.rejects(fetchSecrets(url, "good-token-0123456789"), /refused.*HTTP 401/);
    await assert.rejects(fetchSecrets(url, "junk-token-0123456789"), /not \{"adminPassword"/);
    await assert.rejects(fetchSecrets(undefined, "x"), /SCALEIO_FRAMEWORK_URL is not set/);
    await assert.rejects(fetchSecrets("http://127.0.0.1:1", "x"), /cannot fetch secrets/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("fetchSecrets shows the task id and leaves from the agent's address", async () => {
  const seen: { task?: string; from?: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({
      task: req.headers["x-scaleio-task-id"] as string,
      from: req.socket.remoteAddress ?? "",
    });
    res.end(JSON.stringify({ adminPassword: "pw-123" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const fetcher = await secretsFetcherFromEnv({
      SCALEIO_FRAMEWORK_URL: url,
      MESOS_AGENT_ENDPOINT: "127.0.0.7:5051",
    });
    await fetcher("t".repeat(32), new AbortController().signal, "deploy_mdm.3");
    assert.deepEqual(seen, [{ task: "deploy_mdm.3", from: "127.0.0.7" }]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  assert.equal(agentLocalAddress({ MESOS_AGENT_ENDPOINT: "127.0.0.9:5051" }), "127.0.0.9");
  // Not one of this host's addresses (a NATed agent): the kernel picks the source.
  assert.equal(agentLocalAddress({ MESOS_AGENT_ENDPOINT: "192.0.2.77:5051" }), undefined);
  assert.equal(agentLocalAddress({ MESOS_AGENT_ENDPOINT: "agent-1.example:5051" }), undefined);
});

test("over https the executor trusts only the CA the scheduler named", async () => {
  const schedulerCert = await makeCert("127.0.0.1");
  const otherCa = await makeCert("127.0.0.1");
  const server = createHttpsServer(schedulerCert, (_req, res) =>
    res.end(JSON.stringify({ adminPassword: "pw-123" })),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signal = new AbortController().signal;
  try {
    const trusting = await secretsFetcherFromEnv({
      SCALEIO_FRAMEWORK_URL: url,
      SCALEIO_FRAMEWORK_SCHEDULER_CA: schedulerCert.cert,
    });
    assert.equal((await trusting("t".repeat(32), signal, "a.1")).adminPassword.reveal(), "pw-123");
    // A scheduler (or someone in between) whose certificate does not chain to the named CA.
    const wrongCa = await secretsFetcherFromEnv({
      SCALEIO_FRAMEWORK_URL: url,
      SCALEIO_FRAMEWORK_SCHEDULER_CA: otherCa.cert,
    });
    await assert.rejects(wrongCa("t".repeat(32), signal, "a.1"), /not trusted/);
    // The named CA wins over the system's (and over SCALEIO_FRAMEWORK_CA_FILE).
    const noCa = await secretsFetcherFromEnv({ SCALEIO_FRAMEWORK_URL: url });
    await assert.rejects(noCa("t".repeat(32), signal, "a.1"), /cannot fetch secrets/);
    const missingFile = await secretsFetcherFromEnv({
      SCALEIO_FRAMEWORK_URL: url,
      SCALEIO_FRAMEWORK_CA_FILE: "/nonexistent/ca.pem",
    });
    await assert.rejects(missingFile("t".repeat(32), signal, "a.1"), /cannot read.*ENOENT/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
