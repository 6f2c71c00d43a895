// Where REX-Ray comes from: --rexray-url wins; --rexray-repo with the predecessor's
// -rexray.version and -rexray.branch names the file in the old download site's layout; a
// version or branch with nowhere to take it from, or dvdcli without REX-Ray, is a clear
// configuration error; nothing configured installs nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { translateLegacyArgs } from "../../../src/cli/config/aliases.js";
import { rexrayDownloads } from "../../../src/platforms/scaleio/node/rexray-source.js";

function problems(flags: Record<string, string>): string[] {
  try {
    loadConfig({ flags, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("no configuration error");
}

test("a repository with the version and branch names the tarball; an explicit URL wins", () => {
  const { config } = loadConfig({
    flags: {
      "rexray-repo": "https://mirror.example.com/rexray/",
      "rexray-version": "0.9.2",
      "rexray-branch": "unstable",
      "dvdcli-url": "/srv/pkgs/dvdcli-Linux-x86_64-0.3.1.tar.gz",
    },
    env: {},
  });
  assert.deepEqual(rexrayDownloads(config.scaleio), {
    rexrayUrl: "https://mirror.example.com/rexray/unstable/0.9.2/rexray-Linux-x86_64-0.9.2.tar.gz",
    dvdcliUrl: "file:///srv/pkgs/dvdcli-Linux-x86_64-0.3.1.tar.gz",
  });
  assert.deepEqual(
    rexrayDownloads({ rexrayRepo: "file:///srv/rexray" }),
    { rexrayUrl: "file:///srv/rexray/stable/0.11.4/rexray-Linux-x86_64-0.11.4.tar.gz" },
    "defaults: stable, 0.11.4",
  );
  assert.deepEqual(
    rexrayDownloads({
      rexrayUrl: "https://x.example.com/rexray-0.11.4-1.x86_64.rpm",
      rexrayRepo: "https://mirror.example.com/rexray",
      rexrayVersion: "0.9.2",
    }),
    { rexrayUrl: "https://x.example.com/rexray-0.11.4-1.x86_64.rpm" },
  );
  assert.equal(rexrayDownloads({}), undefined, "nothing configured: nothing installed");
});

test("the predecessor's -rexray.version and -rexray.branch are honoured, not ignored", () => {
  const { argv, notices } = translateLegacyArgs([
    "-rexray.branch=staged",
    "-rexray.version",
    "0.10.2",
  ]);
  assert.deepEqual(argv, ["--rexray-branch=staged", "--rexray-version", "0.10.2"]);
  assert.deepEqual(notices, []);
  const { config } = loadConfig({
    flags: {
      "rexray-branch": "staged",
      "rexray-version": "0.10.2",
      "rexray-repo": "https://mirror.example.com/rexray",
    },
    env: {},
  });
  assert.equal(
    rexrayDownloads(config.scaleio)?.rexrayUrl,
    "https://mirror.example.com/rexray/staged/0.10.2/rexray-Linux-x86_64-0.10.2.tar.gz",
  );
});

test("a version or branch with no repository, dvdcli alone, or a bad version are configuration errors", () => {
  assert.match(
    problems({ "rexray-version": "0.9.2" }).join("\n"),
    /--rexray-version: .*set --rexray-repo/,
  );
  assert.match(problems({ "rexray-branch": "stable" }).join("\n"), /--rexray-branch: /);
  assert.match(
    problems({ "dvdcli-url": "https://x.example.com/dvdcli.tar.gz" }).join("\n"),
    /--dvdcli-url: is installed with REX-Ray/,
  );
  assert.match(
    problems({ "rexray-repo": "https://m.example.com", "rexray-version": "latest" }).join("\n"),
    /--rexray-version: must be a REX-Ray version like 0\.11\.4/,
  );
  assert.match(
    problems({ "rexray-repo": "https://m.example.com", "rexray-branch": "../x" }).join("\n"),
    /--rexray-branch: must be a branch name/,
  );
});
