// Installing a ScaleIO component where there is no package manager (CoreOS, Flatcar), the way
// the containerised ScaleIO installs of that time did: the package's payload is unpacked
// under /opt/emc/scaleio (files for the read-only /usr or /bin go under
// /opt/emc/scaleio/rootfs), what the package's scripts did with the install environment
// (reference 2.3) is done here instead (the MDM's role in its conf.txt, the SDC's MDM list in
// drv_cfg.txt, the whole environment in a root-only file the unit reads), and a systemd unit
// is written under /etc/systemd/system, enabled and started. Success is the unit active.
import { StepError, type StepContext } from "../../../framework/node-task/handler.js";
import { HostCommandError } from "../../../host/process.js";
import type { Component } from "./common.js";
import { tail } from "./common.js";

export const UNPACK_PREFIX = "/opt/emc/scaleio";
const RELOCATE_TO = `${UNPACK_PREFIX}/rootfs`;
export const UNPACKED_DRV_CFG_TXT = `${UNPACK_PREFIX}/sdc/cfg/drv_cfg.txt`;

/** The unit each component gets: the names its packages register elsewhere. */
export const UNIT_NAME: Record<Component, string> = {
  mdm: "mdm",
  sds: "sds",
  sdc: "scini",
  lia: "lia",
  gateway: "scaleio-gateway",
};

const DESCRIPTION: Record<Component, string> = {
  mdm: "ScaleIO MDM",
  sds: "ScaleIO SDS",
  sdc: "ScaleIO SDC driver (scini)",
  lia: "ScaleIO LIA",
  gateway: "ScaleIO Gateway",
};

const envFile = (c: Component) => `${UNPACK_PREFIX}/${c}/cfg/install.env`;

/**
 * A value as systemd's EnvironmentFile reads it: double-quoted, `\` and `"` escaped. A line
 * break cannot be written (it would start another variable).
 */
export function envFileValue(key: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new StepError(`${key}: a value with a line break cannot go in a unit's environment`, {
      permanent: true,
    });
  }
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The unit text (start scripts as the packages lay them out; paths unverified for 3.x). */
export function unitFor(c: Component, driver: string | undefined): string {
  const bin = `${UNPACK_PREFIX}/${c}/bin`;
  return [
    "[Unit]",
    `Description=${DESCRIPTION[c]} (unpacked by scaleio-framework)`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=forking",
    `EnvironmentFile=-${envFile(c)}`,
    // A module from the payload is loaded before the SDC starts; a driver_sync archive in the
    // cache (scini.tar) is the SDC start script's to unpack and load.
    ...(c === "sdc" && driver?.endsWith(".ko") ? [`ExecStartPre=/usr/sbin/insmod ${driver}`] : []),
    `ExecStart=${bin}/${UNIT_NAME[c]}.sh start`,
    `ExecStop=${bin}/${UNIT_NAME[c]}.sh stop`,
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Before an unpacked component's files go: its unit stopped, disabled and removed (with its
 * install environment), and systemd told. Nothing to do where it was never unpacked.
 */
export async function stopAndRemoveUnit(c: Component, ctx: StepContext): Promise<void> {
  const { host, signal } = ctx;
  const unit = `${host.os.serviceDir}/${UNIT_NAME[c]}.service`;
  if (!(await host.root.exists(unit))) return;
  const opts = { timeoutMs: 120_000, signal, check: false };
  const r = await host.run("systemctl", ["disable", "--now", `${UNIT_NAME[c]}.service`], opts);
  if (r.exitCode !== 0) ctx.progress(`stopping ${UNIT_NAME[c]}: ${tail(r.stderr || r.stdout)}`);
  await host.root.remove(unit);
  await host.root.remove(envFile(c));
  await host.run("systemctl", ["daemon-reload"], { ...opts, check: true });
}

/**
 * Unpacks `file` and starts the component's unit; returns the text the step reports.
 * Idempotent: files, configuration and unit are rewritten only when they differ.
 */
export async function unpackAndStart(
  c: Component,
  file: string,
  env: Record<string, string>,
  driver: string | undefined,
  ctx: StepContext,
): Promise<string> {
  const { host, signal } = ctx;
  const out: string[] = [];
  const r = await host.packages.installFile(file, { signal, unpackRelocateTo: RELOCATE_TO });
  out.push(r.stdout.trim());
  const lines = Object.entries(env).map(([k, v]) => `${k}=${envFileValue(k, v)}`);
  // Holds the LIA token or the gateway password: readable by root alone.
  await host.root.writeAtomic(envFile(c), `${lines.join("\n")}\n`, { mode: 0o600 });
  if (c === "mdm") {
    await host.root.writeAtomic(
      `${UNPACK_PREFIX}/mdm/cfg/conf.txt`,
      `actor_role_is_manager=${env.MDM_ROLE_IS_MANAGER === "0" ? 0 : 1}\n`,
    );
  }
  if (c === "sdc" && env.MDM_IP) {
    await host.root.writeAtomic(UNPACKED_DRV_CFG_TXT, `mdm ${env.MDM_IP}\n`);
  }
  const unit = `${host.os.serviceDir}/${UNIT_NAME[c]}.service`;
  if (await host.root.writeAtomic(unit, unitFor(c, driver))) out.push(`wrote ${unit}`);
  const systemctl = async (...args: string[]) => {
    try {
      return await host.run("systemctl", args, { timeoutMs: 120_000, signal });
    } catch (err) {
      if (err instanceof HostCommandError) throw new StepError(err.message, { cause: err });
      throw err;
    }
  };
  await systemctl("daemon-reload");
  await systemctl("enable", `${UNIT_NAME[c]}.service`);
  // restart, not start: an upgrade's new files take effect, a first install starts.
  await systemctl("restart", `${UNIT_NAME[c]}.service`);
  const active = await host.run("systemctl", ["is-active", `${UNIT_NAME[c]}.service`], {
    check: false,
    timeoutMs: 60_000,
    signal,
  });
  if (active.stdout.trim() !== "active") {
    throw new StepError(
      `${UNIT_NAME[c]}.service is not active after starting it: ${tail(active.stdout || active.stderr)}`,
    );
  }
  out.push(`${UNIT_NAME[c]}.service active`);
  return out.join("\n");
}
