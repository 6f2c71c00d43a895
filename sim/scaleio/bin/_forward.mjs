// Shared by the node-side tools in this folder (scli, drv_cfg, rpm, dpkg, dpkg-query): sends
// the command line to the ScaleIO emulator's control endpoint and replays its output.
// The node is named by SCALEIO_SIM_NODE_IP; its emulated root dir by SCALEIO_SIM_ROOT; the
// emulator by SCALEIO_SIM_CONTROL (or SCALEIO_SIM_STATE_DIR holding emulator.json).
import { readFileSync } from "node:fs";
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

export async function forward(tool) {
  const url = controlUrl();
  if (!url) {
    process.stderr.write(`${tool}: SCALEIO_SIM_CONTROL is not set (which ScaleIO emulator?)\n`);
    process.exit(127);
  }
  const env = {};
  for (const k of FORWARDED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  let res;
  try {
    res = await globalThis.fetch(`${url}/node/exec`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tool, argv: process.argv.slice(2), env, cwd: process.cwd() }),
    });
  } catch (e) {
    process.stderr.write(`${tool}: cannot reach the ScaleIO emulator at ${url}: ${e.message}\n`);
    process.exit(1);
  }
  const out = await res.json();
  if (!res.ok) {
    process.stderr.write(`${tool}: ${out.message}\n`);
    process.exit(1);
  }
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
}
