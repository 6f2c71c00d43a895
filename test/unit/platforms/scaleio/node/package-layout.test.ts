// The repository layout: `<repo>/<file name>` with the file names ScaleIO delivers (reference
// sheet 2.1), the same names the emulator's repository serves, and names the version parser
// of install and upgrade steps reads back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMPONENTS, parsePackageFile } from "../../../../../src/platforms/scaleio/node/common.js";
import {
  isPackageVersion,
  packageFileName,
  packageUrlInRepo,
} from "../../../../../src/platforms/scaleio/node/package-layout.js";
import { packageUrlAt } from "../../../../../src/platforms/scaleio/lifecycle/upgrade.js";
import { packageFileName as emulatorFileName } from "../../../../../sim/scaleio/node/packages.js";
import { REPO_VERSIONS } from "../../../../../sim/scaleio/emulator.js";

test("each component's URL is <repo>/<the delivered file name>", () => {
  const repo = "https://repo.example.com/scaleio/2.0";
  assert.equal(
    packageUrlInRepo(repo, "2.0-6035.0", "rpm", "mdm"),
    "https://repo.example.com/scaleio/2.0/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm",
  );
  assert.equal(
    packageUrlInRepo(`${repo}/`, "2.0-13000.211", "deb", "gateway"),
    "https://repo.example.com/scaleio/2.0/emc-scaleio-gateway_2.0-13000.211_amd64.deb",
  );
  assert.equal(
    packageUrlInRepo("/srv/scaleio", "2.0-6035.0", "rpm", "sdc"),
    "/srv/scaleio/EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm",
  );
});

test("the names are the emulator repository's names, and the version parser reads them back", () => {
  for (const version of REPO_VERSIONS) {
    for (const c of COMPONENTS) {
      for (const format of ["rpm", "deb"] as const) {
        const name = packageFileName(c, version, format);
        assert.equal(name, emulatorFileName(c, version, format));
        assert.deepEqual(parsePackageFile(name), { component: c, version, format });
      }
    }
  }
});

test("an upgrade's URL of a layout URL is the layout URL of the new version", () => {
  const repo = "http://127.0.0.1:8080/repo";
  for (const format of ["rpm", "deb"] as const) {
    assert.equal(
      packageUrlAt(packageUrlInRepo(repo, "2.0-6035.0", format, "sds"), "2.0-13000.211"),
      packageUrlInRepo(repo, "2.0-13000.211", format, "sds"),
    );
  }
});

test("only versions the file names can carry are accepted", () => {
  for (const v of ["2.0-6035.0", "2.0-13000.211", "3.0-100"]) assert.ok(isPackageVersion(v), v);
  for (const v of ["", "2.0", "2.0.6035", "latest", "2.0-6035.0.1", "2.0-6035.0/../x"]) {
    assert.ok(!isPackageVersion(v), v);
  }
  assert.throws(
    () => packageUrlInRepo("https://repo.example.com", "2.0.6035", "rpm", "mdm"),
    /'2\.0\.6035' is not a package version like 2\.0-6035\.0/,
  );
});
