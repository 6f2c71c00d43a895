// The self-contained executor (dist/executor/scaleio-executor) that `--executor-launch
// artifact` serves, built with `npm run build:executor`'s script once per test process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));
let built: Promise<void> | undefined;

export function buildExecutorArtifact(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      ["scripts/build-executor.mjs"],
      { cwd: repo, timeout: 180_000 },
      (err, _out, stderr) =>
        err ? reject(new Error(`build:executor failed: ${stderr}`)) : resolve(),
    ),
  );
  return built;
}
