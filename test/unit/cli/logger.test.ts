// The scheduler's logs never carry a secret: not in a message, not in a field, not in a
// field named like a secret whose value the logger does not know.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/cli/logger.js";
import { Secret } from "../../../src/common/secret.js";

test("log lines are JSON and free of secrets", () => {
  let out = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const pw = new Secret("Adm1n-pw-4471", "env");
  const log = createLogger("info", [pw], sink);
  log.info({ err: "login as admin with Adm1n-pw-4471 failed" }, "gateway said Adm1n-pw-4471");
  log.warn({ password: "unknown-to-logger", nested: { token: "tok-99", ok: "kept" } }, "fields");
  log.info({ headers: { authorization: "Bearer abc123" } }, "request");
  log.info({ secret: pw }, "a Secret object");
  const lines = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 4);
  for (const s of ["Adm1n-pw-4471", "unknown-to-logger", "tok-99", "abc123"])
    assert.ok(!out.includes(s), `${s} leaked: ${out}`);
  assert.equal((lines[1]!.nested as { ok: string }).ok, "kept");
  assert.match(out, /\[redacted\]/);
});
