// `promtool check metrics` on a scrape, as the e2e tests use it. A missing promtool (or one
// that cannot start) is a clear failure at once, never a test file that hangs until the
// runner's timeout.
import { spawn } from "node:child_process";

export interface PromtoolResult {
  code: number | null;
  out: string;
}

export function promtoolCheckMetrics(
  metrics: string,
  opts: { command?: string; timeoutMs?: number } = {},
): Promise<PromtoolResult> {
  const command = opts.command ?? "promtool";
  return new Promise((resolve, reject) => {
    const p = spawn(command, ["check", "metrics"], { timeout: opts.timeoutMs ?? 30_000 });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === "ENOENT"
            ? `${command} is not installed (Debian package "prometheus"; see README, Tests)`
            : `${command} could not run: ${err.message}`,
        ),
      ),
    );
    // A child that could not start closes its stdin: EPIPE here, the reason comes above.
    p.stdin.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") reject(err);
    });
    p.on("close", (code) => resolve({ code, out }));
    p.stdin.end(metrics);
  });
}
