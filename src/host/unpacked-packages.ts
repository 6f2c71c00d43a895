// Packages on a host without a package manager (CoreOS Container Linux, Flatcar): the payload
// of an rpm or deb is unpacked by us (package-archive.ts, no system tool), files meant for a
// read-only path are put under a caller-given prefix instead, and what was installed is kept
// in a small record per package under /var/lib/scaleio-framework/packages (the host's
// "package database": the installed version, and which files to take away on removal).
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { HostRoot } from "./files.js";
import { readPackageArchive, PackageArchiveError } from "./package-archive.js";
import {
  PackageError,
  checkPackageName,
  normalizeVersion,
  type PackageCallOptions,
  type PackageFormat,
  type Packages,
} from "./packages.js";
import type { RunResult } from "./process.js";
import { underAny } from "./os-profile.js";

export const UNPACKED_DB = "/var/lib/scaleio-framework/packages";
const MAX_PACKAGE_BYTES = 2 * 1024 ** 3;
const DEFAULT_RELOCATE = "/opt/unpacked";

interface PackageRecord {
  name: string;
  version: string;
  format: PackageFormat;
  from: string;
  files: string[];
}

const result = (stdout: string, started: number): RunResult => ({
  exitCode: 0,
  signal: null,
  stdout,
  stderr: "",
  truncated: false,
  durationMs: Date.now() - started,
});

export class UnpackedPackages implements Packages {
  readonly method = "unpack" as const;

  constructor(
    private readonly root: HostRoot,
    readonly format: PackageFormat,
    /** Named in errors: why there is no package tool here. */
    private readonly osName: string,
  ) {}

  private recordPath(name: string): string {
    return `${UNPACKED_DB}/${checkPackageName(name)}.json`;
  }

  private async record(name: string): Promise<PackageRecord | undefined> {
    const text = await this.root.readText(this.recordPath(name));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as PackageRecord;
    } catch {
      throw new PackageError(`${this.recordPath(name)} is not a package record (damaged?)`);
    }
  }

  async installedVersion(name: string, _opts?: PackageCallOptions): Promise<string | undefined> {
    return (await this.record(name))?.version;
  }

  async installedVersions(
    names: string[],
    _opts?: PackageCallOptions,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const n of names) {
      const v = await this.installedVersion(n);
      if (v) out.set(n, v);
    }
    return out;
  }

  /**
   * Unpacks the package's payload (an upgrade replaces the files and takes away those the new
   * version no longer has). Package scripts are not run: what they did is the caller's job
   * (configuration files, service units). The record is written last, so a crash half-way
   * leaves the package "not installed" and a retry unpacks it again.
   */
  async installFile(path: string, opts: PackageCallOptions = {}): Promise<RunResult> {
    const started = Date.now();
    if (!path.startsWith("/"))
      throw new PackageError(`package file '${path}' is not an absolute path`);
    const size = (await stat(path)).size;
    if (size > MAX_PACKAGE_BYTES)
      throw new PackageError(`${path} is ${size} bytes: too large to unpack`);
    let archive;
    try {
      archive = await readPackageArchive(await readFile(path));
    } catch (err) {
      if (err instanceof PackageArchiveError)
        throw new PackageError(`${basename(path)}: ${err.message}`);
      throw err;
    }
    checkPackageName(archive.name);
    const relocate = (p: string) =>
      underAny(p, this.root.readOnly) ? `${opts.unpackRelocateTo ?? DEFAULT_RELOCATE}${p}` : p;
    const files: string[] = [];
    const moved: string[] = [];
    for (const e of archive.entries) {
      opts.signal?.throwIfAborted();
      const target = relocate(e.path);
      if (target !== e.path && e.type !== "dir") moved.push(e.path);
      if (e.type === "dir") await this.root.ensureDir(target, e.mode || 0o755);
      else if (e.type === "symlink") await this.root.symlink(target, e.linkTarget ?? "");
      else
        await this.root.writeAtomic(target, e.data ?? Buffer.alloc(0), { mode: e.mode || 0o644 });
      if (e.type !== "dir") files.push(target);
    }
    const previous = await this.record(archive.name);
    for (const old of previous?.files ?? []) if (!files.includes(old)) await this.root.remove(old);
    const rec: PackageRecord = {
      name: archive.name,
      version: normalizeVersion(archive.version),
      format: archive.format,
      from: basename(path),
      files,
    };
    await this.root.writeAtomic(this.recordPath(archive.name), `${JSON.stringify(rec, null, 2)}\n`);
    const lines = [
      `Unpacked ${archive.name} ${rec.version} (${archive.format} payload, ${files.length} files)` +
        (previous ? `, replacing ${previous.version}` : ""),
      ...(moved.length
        ? [
            `${moved.length} files for read-only paths put under ${opts.unpackRelocateTo ?? DEFAULT_RELOCATE}`,
          ]
        : []),
    ];
    return result(`${lines.join("\n")}\n`, started);
  }

  async installOsPackages(names: string[], _opts?: PackageCallOptions): Promise<RunResult> {
    throw new PackageError(
      `${this.osName} has no package manager: cannot install ${names.join(" ")} (payloads are unpacked instead)`,
    );
  }

  async remove(name: string, _opts?: PackageCallOptions): Promise<boolean> {
    const rec = await this.record(name);
    if (!rec) return false;
    for (const f of rec.files) await this.root.remove(f);
    await this.root.remove(this.recordPath(name));
    return true;
  }
}
