// Files on the host, seen through a root prefix: `/` on a real machine, the emulated node's
// folder (SCALEIO_SIM_ROOT) in the development cluster. Steps name absolute host paths
// (/etc/rexray/config.yml); only this module knows where they really live. Writes are atomic
// (temp file in the same folder, fsync, rename) so a crash never leaves half a file.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";

export class HostPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostPathError";
  }
}

export interface WriteOptions {
  /** File mode (default 0o644); 0o600 for files holding a secret. */
  mode?: number;
  /** Mode of folders created on the way (default 0o755). */
  dirMode?: number;
}

export class HostRoot {
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new HostPathError(`host root '${root}' is not an absolute path`);
    this.root = normalize(root);
  }

  /** The real path of an absolute host path; refuses relative paths. */
  resolve(hostPath: string): string {
    if (!isAbsolute(hostPath) || hostPath.includes("\0")) {
      throw new HostPathError(`'${hostPath}' is not an absolute host path`);
    }
    // normalize() of an absolute path cannot climb above `/`, so `..` never leaves the root.
    const clean = normalize(hostPath);
    return this.root === sep ? clean : join(this.root, clean);
  }

  async exists(hostPath: string): Promise<boolean> {
    try {
      await stat(this.resolve(hostPath));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  /** The file's text, or undefined when it does not exist. */
  async readText(hostPath: string): Promise<string | undefined> {
    try {
      return await readFile(this.resolve(hostPath), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Removes a file; true when there was one (a missing file is no error: steps re-run). */
  async remove(hostPath: string): Promise<boolean> {
    const target = this.resolve(hostPath);
    try {
      await stat(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    await rm(target, { force: true });
    return true;
  }

  /**
   * Writes atomically with the given mode. Returns false (and leaves the file alone) when it
   * already has exactly this content and mode, so re-running a step changes nothing.
   */
  async writeAtomic(
    hostPath: string,
    content: string | Buffer,
    opts: WriteOptions = {},
  ): Promise<boolean> {
    const target = this.resolve(hostPath);
    const mode = opts.mode ?? 0o644;
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    try {
      const [st, current] = await Promise.all([stat(target), readFile(target)]);
      if ((st.mode & 0o777) === mode && current.equals(data)) return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await mkdir(dirname(target), { recursive: true, mode: opts.dirMode ?? 0o755 });
    const tmp = `${target}.tmp-${randomBytes(6).toString("hex")}`;
    // The mode is set at creation, so a secret is never readable by others, not even briefly.
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    try {
      await chmod(tmp, mode); // creation mode is filtered by the umask
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return true;
  }
}
