// The configuration reference is what the script generates from the schema (so it lists
// every key and flag there is), and the example configuration loads with the real loader.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OPTIONS, envName, loadConfig } from "../../../src/cli/config/load.js";
import { allKeys } from "../../../src/cli/config/schema-info.js";
import { REFERENCE_PATH, renderConfigReference } from "../../../scripts/config-reference.js";

test("docs/configuration.md is what `npm run docs:config` writes", () => {
  const committed = readFileSync(REFERENCE_PATH, "utf8");
  assert.ok(
    committed === renderConfigReference(),
    "docs/configuration.md is out of date: run `npm run docs:config` and commit it",
  );
});

test("the reference lists every key with its flag and variable", () => {
  const text = renderConfigReference();
  for (const path of allKeys())
    assert.ok(text.includes(`| \`${path.join(".")}\` |`), path.join("."));
  for (const flag of Object.keys(OPTIONS)) {
    assert.ok(text.includes(`| \`--${flag}\` | \`${envName(flag)}\` |`), flag);
  }
  assert.ok(
    text.includes(
      "| `scaleio.mdmCount` | one of: 3, 5 | `3` | `--mdm-count` | `SCALEIO_FRAMEWORK_MDM_COUNT` |",
    ),
  );
  assert.ok(
    text.includes(
      "| `api.port` | integer 0 to 65535 | `35000` | `--api-port` | `SCALEIO_FRAMEWORK_API_PORT` |",
    ),
  );
});

test("deploy/config.example.yaml loads with the real loader", () => {
  const file = fileURLToPath(new URL("../../../deploy/config.example.yaml", import.meta.url));
  const { config, notices } = loadConfig({ file, env: {} });
  assert.deepEqual(notices, []);
  assert.equal(
    config.mesos.master,
    "zk://zk1.example.com:2181,zk2.example.com:2181,zk3.example.com:2181/mesos",
  );
  assert.equal(config.state.dir, "/var/lib/scaleio-framework");
  assert.equal(config.scaleio.strategy, "single-pool");
  assert.match(config.scaleio.packages.deb.mdm ?? "", /^https:\/\/repo\.example\.com\//);
  assert.equal(config.health.autoGrow, "devices");
  assert.equal(config.executor.launch, "artifact");
});
