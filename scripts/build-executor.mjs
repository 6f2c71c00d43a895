#!/usr/bin/env node
// Builds the executor as one self-contained program for agents without Node.js:
// 1. esbuild bundles src/executor/sea-entry.ts and its dependencies into one CommonJS file;
// 2. Node's single-executable-application support turns it into a blob
//    (`node --experimental-sea-config`);
// 3. postject injects the blob into a copy of this Node binary.
// Output: dist/executor/scaleio-executor (and the bundle, scaleio-executor.cjs), or --out <dir>.
import { build } from "esbuild";
import { inject } from "postject";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// `--out <dir>` puts the results elsewhere (tests build into a temp folder).
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(repo, "dist", "executor");
const bundle = join(out, "scaleio-executor.cjs");
const blob = join(out, "sea-prep.blob");
const binary = join(out, "scaleio-executor");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(repo, "src/executor/sea-entry.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile: bundle,
  define: { __EXECUTOR_VERSION__: JSON.stringify(pkg.version) },
  legalComments: "none",
  logLevel: "warning",
});

const seaConfig = join(out, "sea-config.json");
writeFileSync(
  seaConfig,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }),
);
const prep = spawnSync(process.execPath, ["--experimental-sea-config", seaConfig], {
  stdio: "inherit",
});
if (prep.status !== 0) throw new Error("node --experimental-sea-config failed");

rmSync(binary, { force: true });
copyFileSync(process.execPath, binary);
chmodSync(binary, 0o755);
await inject(binary, "NODE_SEA_BLOB", readFileSync(blob), {
  sentinelFuse: "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
});
rmSync(blob, { force: true });
rmSync(seaConfig, { force: true });
console.log(`built ${binary}`);
