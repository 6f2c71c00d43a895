// Starting and stopping executor and command processes. Each runs in its own process
// group (detached) so a whole tree can be signalled, and survives an agent restart.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { constants } from "node:os";
import type { CommandInfo } from "../../../src/mesos/types/index.js";

export function spawnCommand(
  command: CommandInfo,
  cwd: string,
  env: Record<string, string>,
  /** When set, the exit code is also written to this file, so that a restarted agent
   *  can learn how a command it no longer parents ended. */
  exitFile?: string,
): ChildProcess {
  const out = openSync(join(cwd, "stdout"), "a");
  const err = openSync(join(cwd, "stderr"), "a");
  try {
    const shell = command.shell ?? true;
    const opts = {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", out, err] as ["ignore", number, number],
    };
    if (exitFile) {
      const argv = shell
        ? ["/bin/sh", "-c", command.value ?? ""]
        : [command.value ?? "", ...(command.arguments ?? []).slice(1)];
      // The command travels as positional parameters: nothing is interpolated into the script.
      return spawn(
        "/bin/sh",
        ["-c", '"$@"; c=$?; echo $c > "$SIM_EXIT_FILE"; exit $c', "sh", ...argv],
        {
          ...opts,
          env: { ...env, SIM_EXIT_FILE: exitFile },
        },
      );
    }
    if (shell) return spawn("/bin/sh", ["-c", command.value ?? ""], opts);
    const args = command.arguments ?? [];
    // CommandInfo.arguments includes argv[0].
    return spawn(command.value ?? "", args.slice(1), { ...opts, argv0: args[0] ?? command.value });
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** Signals a process group; false when it no longer exists. */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The raw waitpid status Mesos reports in FAILURE events. */
export function waitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return (constants.signals as Record<string, number>)[signal] ?? 9;
  return ((code ?? 0) & 0xff) << 8;
}
