import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { fetchSecrets } from "../../../src/executor/secrets.js";

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
