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

test("logged errors carry their message and code, the stack only at debug, no noise", () => {
  const capture = (level: string) => {
    let out = "";
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = createLogger(level, [new Secret("pw-0091", "env")], sink);
    // What the Mesos client logs: a plain object with a message, not an Error.
    log.warn({ err: { type: "Error", message: "ECONNREFUSED", code: "CONNECTION" } }, "a");
    log.error({ err: Object.assign(new Error("login pw-0091 refused"), { code: "AUTH" }) }, "b");
    log.warn({ err: "plain text" }, "c");
    return out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { err: unknown });
  };
  const info = capture("info");
  assert.deepEqual(info[0]!.err, { message: "ECONNREFUSED", code: "CONNECTION" });
  assert.deepEqual(info[1]!.err, { message: "login [redacted] refused", code: "AUTH" });
  assert.equal(info[2]!.err, "plain text");
  const debug = capture("debug");
  const withStack = debug[1]!.err as { stack?: string };
  assert.match(withStack.stack ?? "", /^Error: login \[redacted\] refused\n\s+at /);
  assert.ok(!JSON.stringify(debug).includes("pw-0091"));
  assert.equal((debug[0]!.err as { stack?: string }).stack, undefined, "no empty stack");
});
