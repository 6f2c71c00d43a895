// Writes and starts a long-running service for the host's init system (systemd unit, upstart
// job or SysV init script), as `rexray install` once did for REX-Ray, and takes it away again
// (stopped, disabled, its file removed) on uninstall. The init system and the folder for units
// come from the host's OS profile; start, status and restart go through the init system's own
// commands (systemctl, or `service` for upstart and SysV).
import { StepError, type StepContext } from "../../../framework/node-task/handler.js";
import type { RunResult } from "../../../host/process.js";

export interface ServiceSpec {
  /** Unit name, e.g. `rexray`. */
  name: string;
  description: string;
  /** The program run in the foreground (systemd, upstart): absolute path and arguments. */
  foreground: string[];
  /** The commands of a SysV script, each absolute path and arguments (the program daemonizes). */
  sysv: { start: string[]; stop: string[]; status: string[] };
}

export interface ServiceResult {
  init: "systemd" | "upstart" | "sysv";
  /** The unit, job or script written. */
  path: string;
  changed: boolean;
  active: boolean;
}

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
/** The first line of every unit, job and script written here: an uninstall removes only those. */
export const SERVICE_MARK = "# Written by scaleio-framework; changes are overwritten.";
const WORD = /^[A-Za-z0-9_./=:,+-]+$/;

function commandLine(argv: string[]): string {
  for (const a of argv)
    if (!WORD.test(a))
      throw new StepError(`service command word '${a}' needs quoting`, { permanent: true });
  return argv.join(" ");
}

export function systemdUnit(s: ServiceSpec): string {
  return [
    SERVICE_MARK,
    "[Unit]",
    `Description=${s.description}`,
    "After=network-online.target scini.service",
    "Before=docker.service",
    "",
    "[Service]",
    `ExecStart=${commandLine(s.foreground)}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillMode=process",
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export function upstartJob(s: ServiceSpec): string {
  return [
    SERVICE_MARK,
    `description "${s.description}"`,
    "start on runlevel [2345]",
    "stop on runlevel [!2345]",
    "respawn",
    `exec ${commandLine(s.foreground)}`,
    "",
  ].join("\n");
}

export function sysvScript(s: ServiceSpec): string {
  return [
    "#!/bin/sh",
    "### BEGIN INIT INFO",
    `# Provides:          ${s.name}`,
    "# Required-Start:    $network $remote_fs",
    "# Required-Stop:     $network $remote_fs",
    "# Default-Start:     2 3 4 5",
    "# Default-Stop:      0 1 6",
    `# Short-Description: ${s.description}`,
    "### END INIT INFO",
    SERVICE_MARK,
    'case "$1" in',
    `  start) exec ${commandLine(s.sysv.start)} ;;`,
    `  stop) exec ${commandLine(s.sysv.stop)} ;;`,
    `  restart|force-reload) ${commandLine(s.sysv.stop)}; exec ${commandLine(s.sysv.start)} ;;`,
    `  status) exec ${commandLine(s.sysv.status)} ;;`,
    `  *) echo "Usage: $0 {start|stop|restart|status}"; exit 2 ;;`,
    "esac",
    "",
  ].join("\n");
}

type Init = ServiceResult["init"];

const runIn =
  (ctx: StepContext) =>
  (program: string, args: string[]): Promise<RunResult> =>
    ctx.host.run(program, args, { check: false, timeoutMs: 60_000, signal: ctx.signal });

const mustIn = (ctx: StepContext) => async (program: string, args: string[]) => {
  const r = await runIn(ctx)(program, args);
  if (r.exitCode !== 0)
    throw new StepError(
      `${program} ${args.join(" ")}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().split("\n").at(-1) ?? ""}`,
    );
  return r;
};

/** Where the unit, job or script of `name` is for this init system. */
export function servicePathOf(init: Init, serviceDir: string, name: string): string {
  return init === "systemd"
    ? `${serviceDir}/${name}.service`
    : init === "upstart"
      ? `${serviceDir}/${name}.conf`
      : `${serviceDir}/${name}`;
}

/**
 * SysV scripts are enabled at boot by the distribution's own tool: chkconfig on RHEL/CentOS 6
 * (rpm hosts), update-rc.d on Debian and Ubuntu (deb hosts). Both are idempotent.
 */
async function enableSysv(ctx: StepContext, name: string): Promise<void> {
  const must = mustIn(ctx);
  if (ctx.host.os.packages.format === "rpm") {
    await must("chkconfig", ["--add", name]);
    await must("chkconfig", [name, "on"]);
  } else await must("update-rc.d", [name, "defaults"]);
}

async function disableSysv(ctx: StepContext, name: string): Promise<void> {
  const must = mustIn(ctx);
  if (ctx.host.os.packages.format === "rpm") await must("chkconfig", ["--del", name]);
  else await must("update-rc.d", ["-f", name, "remove"]);
}

/** Whether the init system reports `name` running. */
async function isActive(ctx: StepContext, init: Init, name: string): Promise<boolean> {
  const run = runIn(ctx);
  if (init === "systemd") return (await run("systemctl", ["is-active", name])).exitCode === 0;
  const r = await run("service", [name, "status"]);
  return r.exitCode === 0 && (init !== "upstart" || /start\/running/.test(r.stdout));
}

/**
 * Writes the service for the host's init system, enables it at boot and makes it run: started when
 * stopped, restarted when its unit or `restart` (e.g. a new program) says so. Resolves once
 * the init system reports it running; a service that does not come up fails the step.
 */
export async function writeAndStartService(
  ctx: StepContext,
  spec: ServiceSpec,
  opts: { restart?: boolean } = {},
): Promise<ServiceResult> {
  if (!NAME.test(spec.name))
    throw new StepError(`'${spec.name}' is not a service name`, { permanent: true });
  const { init, serviceDir } = ctx.host.os;
  const root = ctx.host.root;
  const must = mustIn(ctx);
  const path = servicePathOf(init, serviceDir, spec.name);
  const active = () => isActive(ctx, init, spec.name);
  let changed: boolean;
  switch (init) {
    case "systemd": {
      changed = await root.writeAtomic(path, systemdUnit(spec));
      if (changed) await must("systemctl", ["daemon-reload"]);
      await must("systemctl", ["enable", spec.name]);
      if (changed || opts.restart) await must("systemctl", ["restart", spec.name]);
      else if (!(await active())) await must("systemctl", ["start", spec.name]);
      break;
    }
    case "upstart": {
      changed = await root.writeAtomic(path, upstartJob(spec));
      // upstart's restart of a stopped job fails: start it instead.
      if (!(await active())) await must("service", [spec.name, "start"]);
      else if (changed || opts.restart) await must("service", [spec.name, "restart"]);
      break;
    }
    case "sysv": {
      changed = await root.writeAtomic(path, sysvScript(spec), { mode: 0o755 });
      await enableSysv(ctx, spec.name);
      if (changed || opts.restart) await must("service", [spec.name, "restart"]);
      else if (!(await active())) await must("service", [spec.name, "start"]);
      break;
    }
  }
  if (!(await active()))
    throw new StepError(`service ${spec.name} (${init}) is not running after it was started`);
  return { init, path, changed, active: true };
}

/**
 * Stops the service `name` this framework wrote (its file carries SERVICE_MARK), disables it
 * and removes its file; a unit someone else wrote is left alone. Returns the removed file's
 * path, or undefined when there was none of ours. A service that will not stop fails the step
 * (retryable) before anything is removed.
 */
export async function stopAndRemoveService(
  ctx: StepContext,
  name: string,
): Promise<string | undefined> {
  if (!NAME.test(name)) throw new StepError(`'${name}' is not a service name`, { permanent: true });
  const { init, serviceDir } = ctx.host.os;
  const root = ctx.host.root;
  const must = mustIn(ctx);
  const path = servicePathOf(init, serviceDir, name);
  const text = await root.readText(path);
  if (text === undefined) return undefined;
  if (!text.includes(SERVICE_MARK)) {
    ctx.progress(`${path} was not written by this framework: left in place`);
    return undefined;
  }
  if (await isActive(ctx, init, name))
    await must(
      init === "systemd" ? "systemctl" : "service",
      init === "systemd" ? ["stop", name] : [name, "stop"],
    );
  if (await isActive(ctx, init, name))
    throw new StepError(`service ${name} (${init}) is still running after it was stopped`);
  if (init === "systemd") await must("systemctl", ["disable", name]);
  if (init === "sysv") await disableSysv(ctx, name);
  await root.remove(path);
  if (init === "systemd") await must("systemctl", ["daemon-reload"]);
  return path;
}
