// --mdm-replace-after: off by default; a duration from a flag, the environment or YAML (a bare
// YAML number is seconds); nonsense and out-of-range values are refused with the option named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { parseDuration } from "../../../src/cli/config/duration.js";

test("durations: ms, s, m, h, d and combinations; anything else is none", () => {
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  for (const bad of ["", "10", "m", "10 minutes", "-5m", "5x", "1h 30m"])
    assert.equal(parseDuration(bad), undefined, bad);
});

test("off by default; from a flag, the environment or YAML", () => {
  assert.equal(loadConfig({ env: {} }).config.scaleio.mdmReplaceAfter, undefined);
  assert.equal(
    loadConfig({ env: {}, flags: { "mdm-replace-after": "10m" } }).config.scaleio.mdmReplaceAfter,
    600_000,
  );
  assert.equal(
    loadConfig({ env: { SCALEIO_FRAMEWORK_MDM_REPLACE_AFTER: "2h" } }).config.scaleio
      .mdmReplaceAfter,
    7_200_000,
  );
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const yaml = (text: string) => {
    const p = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(p, text);
    return p;
  };
  assert.equal(
    loadConfig({ env: {}, file: yaml("scaleio:\n  mdmReplaceAfter: 15m\n") }).config.scaleio
      .mdmReplaceAfter,
    900_000,
  );
  assert.equal(
    loadConfig({ env: {}, file: yaml("scaleio:\n  mdmReplaceAfter: 120\n") }).config.scaleio
      .mdmReplaceAfter,
    120_000,
    "a bare number is seconds",
  );
});

test("nonsense and out-of-range durations are refused, naming the option", () => {
  for (const v of ["soon", "0s", "30d"]) {
    assert.throws(
      () => loadConfig({ env: {}, flags: { "mdm-replace-after": v } }),
      (err: unknown) =>
        err instanceof ConfigError && /mdm-replace-after|mdmReplaceAfter/.test(err.message),
      v,
    );
  }
});
