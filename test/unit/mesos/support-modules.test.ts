import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Backoff, delay } from "../../../src/mesos/backoff.js";
import { formatMesosDuration, parseMesosDuration } from "../../../src/mesos/duration.js";
import { Credential, loadCredential } from "../../../src/mesos/credentials.js";
import { MesosConfigError } from "../../../src/mesos/errors.js";
import { normaliseMasterUrl } from "../../../src/mesos/scheduler/master-source.js";

test("Mesos durations parse in every unit, and bad ones name the input", () => {
  assert.equal(parseMesosDuration("2secs"), 2000);
  assert.equal(parseMesosDuration("1.5secs"), 1500);
  assert.equal(parseMesosDuration("15mins"), 900_000);
  assert.equal(parseMesosDuration("100ms"), 100);
  assert.equal(parseMesosDuration("3hrs"), 10_800_000);
  assert.equal(parseMesosDuration("1days"), 86_400_000);
  assert.equal(parseMesosDuration("2weeks"), 1_209_600_000);
  assert.equal(parseMesosDuration("500us"), 0.5);
  assert.equal(parseMesosDuration("1000000ns"), 1);
  for (const bad of ["", "abc", "2", "2 seconds", "-1secs", "2sec", "secs"]) {
    assert.throws(
      () => parseMesosDuration(bad),
      (e: unknown) => e instanceof MesosConfigError && e.message.includes(`'${bad}'`),
    );
  }
  assert.equal(formatMesosDuration(900_000), "15mins");
  assert.equal(formatMesosDuration(2000), "2secs");
  assert.equal(formatMesosDuration(1500), "1500ms");
});

test("backoff grows exponentially with jitter and is capped", () => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => low.next()),
    [50, 100, 200, 400, 500, 500],
  );
  const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  const seq = [1, 2, 3, 4, 5, 6].map(() => high.next());
  assert.deepEqual(seq, [100, 200, 400, 800, 1000, 1000]);
  high.reset();
  assert.equal(high.next(), 100);
  const real = new Backoff({ initialMs: 100, maxMs: 1000 });
  for (let i = 0; i < 50; i++) {
    const d = real.next();
    assert.ok(d >= 50 && d <= 1000);
  }
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
});

test("delay can be cancelled", async () => {
  const ac = new AbortController();
  const p = delay(60_000, ac.signal);
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
});

test("credentials come from a file or the environment, and never print their secret", () => {
  const dir = mkdtempSync(join(tmpdir(), "cred-"));
  const file = join(dir, "secret");
  writeFileSync(file, "file-secret\n");
  const c1 = loadCredential({ principal: "fw", secretFile: file });
  assert.equal(
    c1.authorizationHeader(),
    `Basic ${Buffer.from("fw:file-secret").toString("base64")}`,
  );
  const c2 = loadCredential({ principal: "fw", secretEnv: "S", env: { S: "env-secret" } });
  for (const text of [
    JSON.stringify({ c2 }),
    inspect(c2),
    `${c2}`,
    inspect({ nested: { c2 } }, { depth: 9 }),
  ]) {
    assert.ok(!text.includes("env-secret"), text);
  }
  assert.throws(
    () => loadCredential({ principal: "fw", secretFile: join(dir, "missing") }),
    /cannot read the Mesos secret file .*ENOENT/,
  );
  assert.throws(() => loadCredential({ principal: "fw", secretEnv: "NOPE", env: {} }), /NOPE/);
  assert.throws(() => loadCredential({ principal: "fw" }), MesosConfigError);
  assert.throws(() => new Credential("a:b", "x"), /':'/);
  assert.throws(() => new Credential("fw", ""), /empty/);
});

test("master addresses are normalised and bad ones rejected", () => {
  assert.equal(normaliseMasterUrl("127.0.0.1:5050"), "http://127.0.0.1:5050");
  assert.equal(normaliseMasterUrl("https://m1:5050/"), "https://m1:5050");
  assert.throws(() => normaliseMasterUrl("ftp://m1"), MesosConfigError);
  assert.throws(() => normaliseMasterUrl("http://"), MesosConfigError);
});
