// The package source in the configuration: a repository URL and a version (flags, variables
// or the YAML file) name every package; a package's own URL wins over the repository; with
// neither, the error names both ways; half a repository is a configuration error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { packageUrlOf } from "../../../src/cli/config/package-source.js";

const REPO = "https://repo.example.com/scaleio";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("no configuration error");
}

test("--package-repo and --package-version name each component's package", () => {
  const { config } = loadConfig({
    flags: { "package-repo": REPO, "package-version": "2.0-6035.0" },
    env: {},
  });
  assert.equal(
    packageUrlOf(config.scaleio.packages, "rpm", "mdm"),
    `${REPO}/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm`,
  );
  assert.equal(
    packageUrlOf(config.scaleio.packages, "deb", "lia"),
    `${REPO}/emc-scaleio-lia_2.0-6035.0_amd64.deb`,
  );
});

test("the variables set them too, and flags win over the variables", () => {
  const env = {
    SCALEIO_FRAMEWORK_PACKAGE_REPO: "http://mirror.example.com/sio/",
    SCALEIO_FRAMEWORK_PACKAGE_VERSION: "2.0-6035.0",
  };
  const fromEnv = loadConfig({ env }).config.scaleio.packages;
  assert.equal(
    packageUrlOf(fromEnv, "rpm", "sds"),
    "http://mirror.example.com/sio/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm",
  );
  const flagWins = loadConfig({ env, flags: { "package-version": "2.0-13000.211" } }).config.scaleio
    .packages;
  assert.equal(
    packageUrlOf(flagWins, "rpm", "sds"),
    "http://mirror.example.com/sio/EMC-ScaleIO-sds-2.0-13000.211.el7.x86_64.rpm",
  );
});

test("the YAML file sets them as scaleio.packages.repo and .version", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "package-source-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    [
      "scaleio:",
      "  packages:",
      `    repo: ${REPO}`,
      "    version: 2.0-13000.211",
      "    rpm:",
      "      gateway: https://other.example.com/EMC-ScaleIO-gateway-2.0-13000.211.el7.x86_64.rpm",
      "",
    ].join("\n"),
  );
  const { config, notices } = loadConfig({ file, env: {} });
  assert.deepEqual(notices, []);
  const pk = config.scaleio.packages;
  assert.equal(
    packageUrlOf(pk, "rpm", "sdc"),
    `${REPO}/EMC-ScaleIO-sdc-2.0-13000.211.el7.x86_64.rpm`,
  );
  // A package's own URL wins over the repository's.
  assert.equal(
    packageUrlOf(pk, "rpm", "gateway"),
    "https://other.example.com/EMC-ScaleIO-gateway-2.0-13000.211.el7.x86_64.rpm",
  );
});

test("a package's own URL (the predecessor's flags) wins over the repository", () => {
  const own = "https://elsewhere.example.com/EMC-ScaleIO-mdm-2.0-5014.0.el7.x86_64.rpm";
  const { config } = loadConfig({
    flags: { "package-repo": REPO, "package-version": "2.0-6035.0", "package-rpm-mdm": own },
    env: {},
  });
  assert.equal(packageUrlOf(config.scaleio.packages, "rpm", "mdm"), own);
  assert.equal(
    packageUrlOf(config.scaleio.packages, "rpm", "sds"),
    `${REPO}/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm`,
  );
  // Without a repository, the URLs alone still do (the configuration as before).
  const urlsOnly = loadConfig({ flags: { "package-rpm-mdm": own }, env: {} }).config;
  assert.equal(packageUrlOf(urlsOnly.scaleio.packages, "rpm", "mdm"), own);
});

test("with neither a repository nor a URL, the error names both ways", () => {
  const { config } = loadConfig({ env: {} });
  assert.throws(
    () => packageUrlOf(config.scaleio.packages, "rpm", "sdc"),
    (err: Error) => {
      assert.match(err.message, /^no sdc package configured for rpm: /);
      for (const way of [
        "--package-repo",
        "--package-version",
        "SCALEIO_FRAMEWORK_PACKAGE_REPO",
        "SCALEIO_FRAMEWORK_PACKAGE_VERSION",
        "scaleio.packages.repo",
        "--package-rpm-sdc",
        "SCALEIO_FRAMEWORK_PACKAGE_RPM_SDC",
        "scaleio.packages.rpm.sdc",
      ])
        assert.ok(err.message.includes(way), `${way} in: ${err.message}`);
      return true;
    },
  );
});

test("half a repository, or a version no file name carries, is a configuration error", () => {
  const noVersion = problems(() => loadConfig({ flags: { "package-repo": REPO }, env: {} }));
  assert.equal(noVersion.length, 1);
  assert.match(noVersion[0]!, /scaleio\.packages\.version: is required with a package repository/);
  assert.match(noVersion[0]!, /--package-version or SCALEIO_FRAMEWORK_PACKAGE_VERSION/);

  const noRepo = problems(() =>
    loadConfig({ env: { SCALEIO_FRAMEWORK_PACKAGE_VERSION: "2.0-6035.0" } }),
  );
  assert.equal(noRepo.length, 1);
  assert.match(noRepo[0]!, /scaleio\.packages\.repo: is required with a package version/);
  assert.match(noRepo[0]!, /--package-repo or SCALEIO_FRAMEWORK_PACKAGE_REPO/);

  const badVersion = problems(() =>
    loadConfig({ flags: { "package-repo": REPO, "package-version": "2.0.6035" }, env: {} }),
  );
  assert.deepEqual(badVersion, ["--package-version: must be a package version like 2.0-6035.0"]);
  const badRepo = problems(() =>
    loadConfig({
      env: {
        SCALEIO_FRAMEWORK_PACKAGE_REPO: "repo.example.com",
        SCALEIO_FRAMEWORK_PACKAGE_VERSION: "2.0-6035.0",
      },
    }),
  );
  assert.equal(badRepo.length, 1);
  assert.match(badRepo[0]!, /^SCALEIO_FRAMEWORK_PACKAGE_REPO: must be an http\(s\) or file URL/);
});
