// Shared by the node-side tools in this folder (scli, drv_cfg, rpm, dpkg, dpkg-query, apt-get,
// yum): sends the command line to the ScaleIO emulator's control endpoint and replays its
// output.
// The node is named by SCALEIO_SIM_NODE_IP; its emulated root dir by SCALEIO_SIM_ROOT; the
// emulator by SCALEIO_SIM_CONTROL (or SCALEIO_SIM_STATE_DIR holding emulator.json).
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { Buffer } from "node:buffer";
import { join } from "node:path";

const FORWARDED_ENV = [
  "SCALEIO_SIM_NODE_IP",
  "SCALEIO_SIM_ROOT",
  "MDM_ROLE_IS_MANAGER",
  "MDM_IP",
  "TOKEN",
  "GATEWAY_ADMIN_PASSWORD",
];

function controlUrl() {
  if (process.env.SCALEIO_SIM_CONTROL) return process.env.SCALEIO_SIM_CONTROL;
  if (process.env.SCALEIO_SIM_STATE_DIR) {
    const info = JSON.parse(
      readFileSync(join(process.env.SCALEIO_SIM_STATE_DIR, "emulator.json"), "utf8"),
    );
    return info.control;
  }
  return undefined;
}

/**
 * Whether scli would prompt for a password (a password flag left out): only then is standard
 * input read, as the real one does, so a caller that never closes it is not kept waiting.
 */
function promptsForPassword(tool, argv) {
  if (tool !== "scli") return false;
  const has = (f) => argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`));
  if (has("login")) return !has("password");
  if (has("set_password")) return !has("old_password") || !has("new_password");
  return false;
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

export async function forward(tool) {
  const url = controlUrl();
  if (!url) {
    process.stderr.write(`${tool}: SCALEIO_SIM_CONTROL is not set (which ScaleIO emulator?)\n`);
    process.exit(127);
  }
  const env = {};
  for (const k of FORWARDED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  // node:http rather than fetch: it loads much faster, and these tools run once per command.
  const argv = process.argv.slice(2);
  const stdin = promptsForPassword(tool, argv) ? await readStdin() : undefined;
  const payload = JSON.stringify({
    tool,
    argv,
    env,
    cwd: process.cwd(),
    ...(stdin !== undefined ? { stdin } : {}),
  });
  let status;
  let out;
  try {
    [status, out] = await new Promise((resolve, reject) => {
      const req = request(`${url}/node/exec`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      });
      req.on("response", (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve([res.statusCode, JSON.parse(Buffer.concat(chunks).toString("utf8"))]);
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  } catch (e) {
    process.stderr.write(`${tool}: cannot reach the ScaleIO emulator at ${url}: ${e.message}\n`);
    process.exit(1);
  }
  if (status !== 200) {
    process.stderr.write(`${tool}: ${out.message}\n`);
    process.exit(1);
  }
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  // Exit now: an idle keep-alive connection would otherwise hold the process for seconds.
  // (stdout/stderr to pipes and files are synchronous on Linux, so nothing is lost.)
  process.exit(out.exitCode);
}
