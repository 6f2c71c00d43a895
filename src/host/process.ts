// Running a program on the host: always an argument array (never a shell string), a time
// limit, bounded output capture, and the whole process group killed on timeout or abort.
import { spawn } from "node:child_process";

export class HostCommandError extends Error {
  readonly program: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(
    message: string,
    r: Pick<RunResult, "exitCode" | "signal" | "stdout" | "stderr">,
    program: string,
  ) {
    super(message);
    this.name = "HostCommandError";
    this.program = program;
    this.exitCode = r.exitCode;
    this.signal = r.signal;
    this.stdout = r.stdout;
    this.stderr = r.stderr;
  }
}

export interface RunOptions {
  /** Extra environment variables (added to a minimal base environment). */
  env?: Record<string, string>;
  /** Replace the base environment entirely. */
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of stdout and of stderr kept (the rest is dropped, counted in `truncated`). */
  maxOutputBytes?: number;
  /** Throw HostCommandError unless the exit code is 0 (default true). */
  check?: boolean;
  /** Strings that must not appear in errors (e.g. a password passed in env). */
  redact?: string[];
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

const SAFE_ARG = (a: unknown): a is string => typeof a === "string" && !a.includes("\0");

function scrub(text: string, secrets: string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s) out = out.split(s).join("[redacted]");
  return out;
}

export function run(program: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!SAFE_ARG(program) || program.length === 0)
    throw new TypeError("program must be a non-empty string");
  for (const a of args)
    if (!SAFE_ARG(a)) throw new TypeError(`argument ${JSON.stringify(a)} is not a plain string`);
  const cap = opts.maxOutputBytes ?? 1024 * 1024;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: opts.cwd,
      env: { ...(opts.baseEnv ?? process.env), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout can kill what it started too
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    const collect = (into: Buffer[], which: "out" | "err") => (chunk: Buffer) => {
      const used = which === "out" ? outLen : errLen;
      const room = cap - used;
      if (room <= 0) {
        truncated = true;
        return;
      }
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (piece.length < chunk.length) truncated = true;
      into.push(piece);
      if (which === "out") outLen += piece.length;
      else errLen += piece.length;
    };
    child.stdout.on("data", collect(out, "out"));
    child.stderr.on("data", collect(err, "err"));
    let killedFor: string | undefined;
    const killGroup = (why: string) => {
      if (killedFor) return;
      killedFor = why;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => killGroup(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs)
      : undefined;
    const onAbort = () => killGroup("aborted");
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      const code = (e as NodeJS.ErrnoException).code;
      reject(
        new HostCommandError(
          code === "ENOENT" ? `${program}: command not found` : `${program}: ${e.message}`,
          { exitCode: null, signal: null, stdout: "", stderr: "" },
          program,
        ),
      );
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      const result: RunResult = {
        exitCode,
        signal,
        stdout: scrub(Buffer.concat(out).toString("utf8"), opts.redact),
        stderr: scrub(Buffer.concat(err).toString("utf8"), opts.redact),
        truncated,
        durationMs: Date.now() - started,
      };
      if (killedFor) {
        reject(new HostCommandError(`${program}: ${killedFor}`, result, program));
        return;
      }
      if ((opts.check ?? true) && exitCode !== 0) {
        const tail = (result.stderr.trim() || result.stdout.trim())
          .split("\n")
          .slice(-5)
          .join(" | ");
        reject(
          new HostCommandError(
            `${program} ${scrub(args.join(" "), opts.redact)} failed (${signal ? `signal ${signal}` : `exit ${exitCode}`})${tail ? `: ${tail}` : ""}`,
            result,
            program,
          ),
        );
        return;
      }
      resolve(result);
    });
    // A program may exit without reading its input (EPIPE): its exit status says how it went;
    // unhandled, the pipe's error would crash this process.
    child.stdin.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") killGroup(`its input could not be written: ${e.message}`);
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
