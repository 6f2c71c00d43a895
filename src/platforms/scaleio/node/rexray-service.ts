// Writes and starts a long-running service for the host's init system (systemd unit, upstart
// job or SysV init script), as `rexray install` once did for REX-Ray. The init system and the
// folder for units come from the host's OS profile; start, status and restart go through the
// init system's own commands (systemctl, or `service` for upstart and SysV).
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
const WORD = /^[A-Za-z0-9_./=:,+-]+$/;

function commandLine(argv: string[]): string {
  for (const a of argv)
    if (!WORD.test(a))
      throw new StepError(`service command word '${a}' needs quoting`, { permanent: true });
  return argv.join(" ");
}

export function systemdUnit(s: ServiceSpec): string {
  return [
    "# Written by scaleio-framework; changes are overwritten.",
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
    "# Written by scaleio-framework; changes are overwritten.",
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
    "# Written by scaleio-framework; changes are overwritten.",
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

/**
 * Writes the service for the host's init system, enables it and makes it run: started when
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
  const run = (program: string, args: string[]): Promise<RunResult> =>
    ctx.host.run(program, args, { check: false, timeoutMs: 60_000, signal: ctx.signal });
  const must = async (program: string, args: string[]) => {
    const r = await run(program, args);
    if (r.exitCode !== 0)
      throw new StepError(
        `${program} ${args.join(" ")}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().split("\n").at(-1) ?? ""}`,
      );
    return r;
  };
  let path: string;
  let changed: boolean;
  let isActive: () => Promise<boolean>;
  switch (init) {
    case "systemd": {
      path = `${serviceDir}/${spec.name}.service`;
      changed = await root.writeAtomic(path, systemdUnit(spec));
      if (changed) await must("systemctl", ["daemon-reload"]);
      await must("systemctl", ["enable", spec.name]);
      isActive = async () => (await run("systemctl", ["is-active", spec.name])).exitCode === 0;
      if (changed || opts.restart) await must("systemctl", ["restart", spec.name]);
      else if (!(await isActive())) await must("systemctl", ["start", spec.name]);
      break;
    }
    case "upstart": {
      path = `${serviceDir}/${spec.name}.conf`;
      changed = await root.writeAtomic(path, upstartJob(spec));
      isActive = async () => {
        const r = await run("service", [spec.name, "status"]);
        return r.exitCode === 0 && /start\/running/.test(r.stdout);
      };
      // upstart's restart of a stopped job fails: start it instead.
      if (!(await isActive())) await must("service", [spec.name, "start"]);
      else if (changed || opts.restart) await must("service", [spec.name, "restart"]);
      break;
    }
    case "sysv": {
      path = `${serviceDir}/${spec.name}`;
      changed = await root.writeAtomic(path, sysvScript(spec), { mode: 0o755 });
      isActive = async () => (await run("service", [spec.name, "status"])).exitCode === 0;
      if (changed || opts.restart) await must("service", [spec.name, "restart"]);
      else if (!(await isActive())) await must("service", [spec.name, "start"]);
      break;
    }
  }
  if (!(await isActive()))
    throw new StepError(`service ${spec.name} (${init}) is not running after it was started`);
  return { init, path, changed, active: true };
}
