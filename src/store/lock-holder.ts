// Who holds a state-directory lock, and whether that holder still runs. A PID alone is not
// enough: a killed scheduler that its parent has not reaped yet (a zombie) still answers
// kill(pid, 0), and after a restart or a long uptime the PID may belong to another program.
// On Linux /proc/<pid>/stat gives the process state and its start time (in clock ticks since
// boot), which together identify one process; without /proc only the PID can be checked.
import { readFileSync } from "node:fs";

/** What a lock file records: the PID and, where /proc exists, the process's start time. */
export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat; absent in locks written without /proc (or by old versions). */
  startTime?: string;
}

interface ProcStat {
  state: string;
  startTime: string;
}

/** Reads the state and start time of a process, or undefined when it does not exist. */
function readProcStat(pid: number): ProcStat | undefined | "no-proc" {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return procMounted() ? undefined : "no-proc";
    return "no-proc";
  }
  // Field 2 (the command name) is in parentheses and may itself hold spaces or ')': the
  // fields after it start after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const startTime = rest[19]; // field 22; rest[0] is field 3
  if (!state || !startTime || !/^\d+$/.test(startTime)) return "no-proc";
  return { state, startTime };
}

function procMounted(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** This process as a lock file should record it. */
export function currentHolder(): LockHolder {
  const stat = readProcStat(process.pid);
  return typeof stat === "object"
    ? { pid: process.pid, startTime: stat.startTime }
    : { pid: process.pid };
}

/** `<pid>` or `<pid> <start time>`: the first word stays a bare PID, as older versions wrote. */
export function formatHolder(h: LockHolder): string {
  return h.startTime ? `${h.pid} ${h.startTime}\n` : `${h.pid}\n`;
}

/** The holder recorded in a lock file, or undefined when its text names none. */
export function parseHolder(text: string): LockHolder | undefined {
  const [pidText, startTime] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return startTime && /^\d+$/.test(startTime) ? { pid, startTime } : { pid };
}

/**
 * Whether the recorded holder still runs: the PID exists, is not a zombie (nor dead), and,
 * when a start time was recorded, is the same process and not a later one given that PID.
 */
export function holderRunning(h: LockHolder): boolean {
  const stat = readProcStat(h.pid);
  if (stat === "no-proc") return pidExists(h.pid);
  if (stat === undefined) return false;
  if (stat.state === "Z" || stat.state === "X" || stat.state === "x") return false;
  return h.startTime === undefined || h.startTime === stat.startTime;
}
