// Files on the host, seen through a root prefix: `/` on a real machine, the emulated node's
// folder (SCALEIO_SIM_ROOT) in the development cluster. Steps name absolute host paths
// (/etc/rexray/config.yml); only this module knows where they really live. Writes are atomic
// (temp file in the same folder, fsync, rename) so a crash never leaves half a file.
import { randomBytes } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  open,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
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
  /** Host paths mounted read-only (CoreOS's /usr): writing under them fails as on the host. */
  readonly readOnly: readonly string[];

  constructor(root: string, opts: { readOnly?: readonly string[] } = {}) {
    if (!isAbsolute(root)) throw new HostPathError(`host root '${root}' is not an absolute path`);
    this.root = normalize(root);
    this.readOnly = (opts.readOnly ?? []).map((p) => normalize(p));
  }

  /** The same root with these read-only mounts. */
  withReadOnly(readOnly: readonly string[]): HostRoot {
    return new HostRoot(this.root, { readOnly });
  }

  /** Refuses a change under a read-only mount, with the error the host would give (EROFS). */
  private checkWritable(hostPath: string): void {
    const clean = normalize(hostPath);
    const ro = this.readOnly.find(
      (m) => m === "/" || clean === m || clean.startsWith(m.endsWith(sep) ? m : m + sep),
    );
    if (ro) throw new HostPathError(`${clean}: read-only file system (${ro} is mounted read-only)`);
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
    this.checkWritable(hostPath);
    await rm(target, { force: true });
    return true;
  }

  /** Creates a folder (and its parents); an existing one is left as it is. */
  async ensureDir(hostPath: string, mode = 0o755): Promise<void> {
    const target = this.resolve(hostPath);
    if (await this.exists(hostPath)) return;
    this.checkWritable(hostPath);
    await mkdir(target, { recursive: true, mode });
  }

  /**
   * A symbolic link with a relative target that stays inside the root (an absolute or
   * climbing target would point outside an emulated node's folder); replaces an older link.
   */
  async symlink(hostPath: string, linkTarget: string): Promise<void> {
    let depth = dirname(normalize(hostPath)).split(sep).filter(Boolean).length;
    let climbs = false;
    for (const part of linkTarget.split(sep)) {
      depth += part === ".." ? -1 : part === "." || part === "" ? 0 : 1;
      if (depth < 0) climbs = true;
    }
    if (isAbsolute(linkTarget) || climbs || linkTarget.includes("\0")) {
      throw new HostPathError(`link ${hostPath} -> ${linkTarget}: only relative targets are made`);
    }
    const target = this.resolve(hostPath);
    this.checkWritable(hostPath);
    const current = await lstat(target).then(
      (st) => (st.isSymbolicLink() ? readlink(target) : "not a link"),
      () => undefined,
    );
    if (current === linkTarget) return;
    await mkdir(dirname(target), { recursive: true });
    if (current !== undefined) await rm(target, { force: true, recursive: false });
    await symlink(linkTarget, target);
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
    this.checkWritable(hostPath);
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
