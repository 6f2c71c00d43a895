// Entry of the self-contained executor binary (scripts/build-executor.mjs bundles it as
// CommonJS, which Node's single-executable applications require, so no top-level await).
import { runExecutor } from "./main.js";

declare const __EXECUTOR_VERSION__: string;

const args = process.argv.slice(2);
if (args.includes("--version") || args.includes("-V")) {
  process.stdout.write(`${__EXECUTOR_VERSION__}\n`);
  process.exit(0);
} else if (args.length > 0 && args[0] !== "executor") {
  process.stderr.write(`usage: scaleio-executor [executor] [--version]\n`);
  process.exit(2);
} else {
  runExecutor().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`scaleio-executor: ${(err as Error)?.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
