// Configuration errors an operator can act on: where the bad value came from (flag, variable,
// or file and line), what is allowed, and the key that was probably meant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { closest } from "../../../src/cli/config/suggest.js";

const dir = mkdtempSync(join(tmpdir(), "cfg-errors-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected a ConfigError");
}

test("mdmCount 4 says it must be 3 or 5, wherever it came from", () => {
  const path = file("mdm.yaml", "scaleio:\n  clusterName: c1\n  mdmCount: 4\n");
  assert.deepEqual(
    problemsOf(() => loadConfig({ file: path, env: {} })),
    [`${path}:3 scaleio.mdmCount: must be 3 or 5 (got 4)`],
  );
  assert.deepEqual(
    problemsOf(() => loadConfig({ env: { SCALEIO_FRAMEWORK_MDM_COUNT: "4" } })),
    ["SCALEIO_FRAMEWORK_MDM_COUNT: must be 3 or 5 (got 4)"],
  );
  // A flag wins over the file, and the error names the flag.
  assert.deepEqual(
    problemsOf(() => loadConfig({ file: path, env: {}, flags: { "mdm-count": "7" } })),
    ["--mdm-count: must be 3 or 5 (got 7)"],
  );
});

test("enum and range errors list what is allowed", () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: {},
      flags: {
        strategy: "global",
        "log-level": "verbose",
        "api-port": "70000",
        "observe-interval": "0.5",
        "executor-cpu-mdm": "0",
      },
    }),
  );
  assert.ok(
    problems.includes("--strategy: must be single-pool, imperative or declarative (got 'global')"),
    problems.join("\n"),
  );
  assert.ok(
    problems.includes(
      "--log-level: must be trace, debug, info, warn, error or fatal (got 'verbose')",
    ),
  );
  assert.ok(problems.includes("--api-port: must be an integer from 0 to 65535 (got 70000)"));
  assert.ok(problems.includes("--observe-interval: must be a number from 1 to 3600 (got 0.5)"));
  assert.ok(problems.includes("--executor-cpu-mdm: must be a number > 0, <= 64 (got 0)"));
  assert.ok(!problems.join("\n").includes("Invalid"), problems.join("\n"));
});

test("unknown keys and flags get 'did you mean'", () => {
  const path = file(
    "typo.yaml",
    "mesos:\n  mastr: http://m:5050\nscaleio:\n  storagePol: p1\n  mdmcount: 5\nhelth: {}\n",
  );
  const problems = problemsOf(() => loadConfig({ file: path, env: {} }));
  assert.ok(
    problems.includes(`${path}:2 mesos.mastr: unknown key; did you mean 'master'?`),
    problems.join("\n"),
  );
  assert.ok(
    problems.includes(`${path}:4 scaleio.storagePol: unknown key; did you mean 'storagePool'?`),
  );
  assert.ok(problems.includes(`${path}:5 scaleio.mdmcount: unknown key; did you mean 'mdmCount'?`));
  assert.ok(problems.includes(`${path}:6 helth: unknown key; did you mean 'health'?`));
  assert.deepEqual(
    problemsOf(() => loadConfig({ env: {}, flags: { "storage-pol": "x" } })),
    ["unknown option --storage-pol; did you mean --storage-pool?"],
  );
  // Nothing close: no guess.
  assert.equal(closest("frobnicate", ["master", "role"]), undefined);
});

test("a missing key of a section says how to set it; a bad map key says why", () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: {},
      file: file(
        "existing.yaml",
        "scaleio:\n  existing:\n    primary: 10.0.0.1\n    secondary: 10.0.0.2\nexecutor:\n  env:\n    bad-name: x\n",
      ),
    }),
  );
  assert.ok(
    problems.some((p) =>
      /:2 scaleio\.existing\.tiebreaker: is required \(--mdm-tiebreaker, SCALEIO_FRAMEWORK_MDM_TIEBREAKER or the file's key scaleio\.existing\.tiebreaker\)$/.test(
        p,
      ),
    ),
    problems.join("\n"),
  );
  assert.ok(
    problems.some((p) =>
      /:7 executor\.env\.bad-name: the key must be an environment variable name$/.test(p),
    ),
    problems.join("\n"),
  );
});

test("one message per bad value, not one per failed check", () => {
  assert.deepEqual(
    problemsOf(() =>
      loadConfig({ env: { SCALEIO_FRAMEWORK_CLUSTER_NAME: "" }, flags: { "cluster-name": "" } }),
    ),
    ["--cluster-name: must not be empty"],
  );
});

test("a misspelt SCALEIO_FRAMEWORK_ variable is not ignored in silence", () => {
  const { config, notices } = loadConfig({
    env: {
      SCALEIO_FRAMEWORK_STORAGE_POLL: "p1",
      // Variables of executors and of the operator CLI are not settings, and not typos.
      SCALEIO_FRAMEWORK_URL: "http://s:35000",
      SCALEIO_FRAMEWORK_API: "http://s:35000",
      SCALEIO_FRAMEWORK_API_TOKEN: "t0k3n-value",
    },
  });
  assert.equal(config.scaleio.storagePool, "default");
  assert.deepEqual(notices, [
    "SCALEIO_FRAMEWORK_STORAGE_POLL is not a setting and is ignored; did you mean SCALEIO_FRAMEWORK_STORAGE_POOL?",
  ]);
});

test("a problem of a section set by flags names those flags", () => {
  assert.deepEqual(
    problemsOf(() =>
      loadConfig({
        env: { SCALEIO_FRAMEWORK_MDM_TIEBREAKER: "10.0.0.2" },
        flags: { "mdm-primary": "10.0.0.1", "mdm-secondary": "10.0.0.2" },
      }),
    ),
    [
      "scaleio.existing (--mdm-primary, --mdm-secondary, SCALEIO_FRAMEWORK_MDM_TIEBREAKER): primary, secondary and tiebreaker must be three different addresses",
    ],
  );
});
