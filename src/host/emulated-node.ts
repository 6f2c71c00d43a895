// The dev host profile runs only the emulated node's own programs: those in its tool folders
// (SCALEIO_SIM_TOOLS) or under its root folder. A program found anywhere else on PATH is the
// real machine's (apt-get, systemctl, mkfs...) and is refused before anything is spawned, so
// that a development cluster can never change the host it runs on.
import { access, realpath, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { delimiter, isAbsolute, join, resolve, sep } from "node:path";
import { HostCommandError, type RunOptions, type RunResult } from "./process.js";

type Runner = (program: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Where spawning `program` with this PATH would find it, or undefined. */
async function locate(program: string, path: string, cwd: string): Promise<string | undefined> {
  if (program.includes("/")) return resolve(cwd, program);
  for (const dir of path.split(delimiter)) {
    const candidate = resolve(cwd, join(dir || ".", program));
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

const inside = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Wraps `run` so it spawns only programs that belong to the emulated node. Symbolic links
 * are followed first: a link in the root to a real tool is still the real tool.
 */
export function confineToEmulatedNode(
  run: Runner,
  node: { root: string; toolDirs: string[] },
): Runner {
  if (!isAbsolute(node.root) || resolve(node.root) === sep) {
    throw new Error(`an emulated node's root must be a folder of its own, not '${node.root}'`);
  }
  const allowed = Promise.all([node.root, ...node.toolDirs.filter(isAbsolute)].map(real));
  return async (program, args, opts = {}) => {
    const env = { ...(opts.baseEnv ?? process.env), ...opts.env };
    const cwd = opts.cwd ?? process.cwd();
    const found = await locate(program, env.PATH ?? "", cwd);
    const target = found ? await real(found) : undefined;
    if (!target || !(await allowed).some((dir) => inside(target, dir))) {
      const where = found
        ? `${found} belongs to the real machine`
        : "no emulated tool of that name exists";
      throw new HostCommandError(
        `${program}: not run: this is an emulated node (host profile dev) and ${where}; ` +
          "development doubles never run commands on the real host",
        { exitCode: null, signal: null, stdout: "", stderr: "" },
        program,
      );
    }
    return run(program, args, opts);
  };
}
