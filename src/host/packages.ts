// Generic deb/rpm package handling: which format the host uses, the installed version of a
// package, installing a package file (with the install-time environment some packages read)
// and OS packages from the distribution's repositories. Every call is an argument array.
import { run as spawnProgram, type RunOptions, type RunResult } from "./process.js";
import type { HostRoot } from "./files.js";

export type PackageFormat = "deb" | "rpm";

/** Distribution package names: letters, digits and `.+_:-`, never an option or a path. */
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9.+_:~-]{0,127}$/;

export class PackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PackageError";
  }
}

export function checkPackageName(name: string): string {
  if (!PACKAGE_NAME.test(name)) throw new PackageError(`'${name}' is not a valid package name`);
  return name;
}

export interface PackageCallOptions {
  signal?: AbortSignal;
  /** Environment for the package tool (e.g. MDM_IP); values listed in `redact` never show. */
  env?: Record<string, string>;
  redact?: string[];
  timeoutMs?: number;
  /**
   * Unpack installs only: where payload files meant for a read-only path (CoreOS's /usr) go
   * instead, as `<unpackRelocateTo><original path>`.
   */
  unpackRelocateTo?: string;
}

/**
 * What steps may do with packages on a host, whichever way they get there: through the
 * distribution's tools (PackageManager) or unpacked by us (UnpackedPackages, no tool).
 */
export interface Packages {
  /** The package files this host reads (`deb` or `rpm`). */
  readonly format: PackageFormat;
  readonly method: "package-tool" | "unpack";
  installedVersion(name: string, opts?: PackageCallOptions): Promise<string | undefined>;
  installedVersions(names: string[], opts?: PackageCallOptions): Promise<Map<string, string>>;
  installFile(path: string, opts?: PackageCallOptions): Promise<RunResult>;
  installOsPackages(names: string[], opts?: PackageCallOptions): Promise<RunResult>;
  remove(name: string, opts?: PackageCallOptions): Promise<boolean>;
}

const QUERY_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export class PackageManager implements Packages {
  readonly method = "package-tool" as const;

  constructor(
    readonly format: PackageFormat,
    /** Environment added to every call (the development profile points tools at the emulator). */
    private readonly baseEnv: Record<string, string> = {},
    /** Runs the package tools (default: child processes). */
    private readonly run: (
      program: string,
      args: string[],
      opts?: RunOptions,
    ) => Promise<RunResult> = spawnProgram,
  ) {}

  /** The installed version (`2.0-6035.0`, rpm's `.el7` dist tag dropped), or undefined. */
  async installedVersion(name: string, opts: PackageCallOptions = {}): Promise<string | undefined> {
    checkPackageName(name);
    const r =
      this.format === "deb"
        ? await this.run(
            "dpkg-query",
            ["-W", "-f=${Version}", name],
            this.opts(opts, QUERY_TIMEOUT_MS, false),
          )
        : await this.run(
            "rpm",
            ["-q", "--qf", "%{VERSION}-%{RELEASE}", name],
            this.opts(opts, QUERY_TIMEOUT_MS, false),
          );
    if (r.exitCode !== 0) return undefined;
    const v = r.stdout.trim();
    if (!v || /not installed/.test(v)) return undefined;
    return normalizeVersion(v);
  }

  /**
   * The installed versions of several packages with one query (one process on a real host
   * instead of one each): the names that are installed, with their versions.
   */
  async installedVersions(
    names: string[],
    opts: PackageCallOptions = {},
  ): Promise<Map<string, string>> {
    names.forEach(checkPackageName);
    const out = new Map<string, string>();
    if (names.length === 0) return out;
    // Exit codes say how many were missing: the lines say which ones were found.
    const r =
      this.format === "deb"
        ? await this.run(
            "dpkg-query",
            ["-W", "-f=${Package}\\t${db:Status-Abbrev}\\t${Version}\\n", ...names],
            this.opts(opts, QUERY_TIMEOUT_MS, false),
          )
        : await this.run(
            "rpm",
            ["-q", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n", ...names],
            this.opts(opts, QUERY_TIMEOUT_MS, false),
          );
    const wanted = new Set(names);
    for (const line of r.stdout.split("\n")) {
      const fields = line.split("\t");
      const name = fields[0]!;
      const version = fields.at(-1)!.trim();
      if (!wanted.has(name) || !version) continue;
      // dpkg also lists packages removed but not purged ("rc"): only "ii"/"hi" are installed.
      if (fields.length === 3 && !/^[ih]i/.test(fields[1]!)) continue;
      out.set(name, normalizeVersion(version));
    }
    return out;
  }

  /** `dpkg -i <file>` / `rpm -Uvh <file>`; throws HostCommandError on a non-zero exit. */
  async installFile(path: string, opts: PackageCallOptions = {}): Promise<RunResult> {
    if (!path.startsWith("/"))
      throw new PackageError(`package file '${path}' is not an absolute path`);
    return this.format === "deb"
      ? this.run("dpkg", ["-i", path], this.opts(opts, INSTALL_TIMEOUT_MS, true))
      : this.run("rpm", ["-Uvh", path], this.opts(opts, INSTALL_TIMEOUT_MS, true));
  }

  /** `apt-get install -y ...` / `yum install -y ...`. */
  async installOsPackages(names: string[], opts: PackageCallOptions = {}): Promise<RunResult> {
    if (names.length === 0) throw new PackageError("no packages to install");
    names.forEach(checkPackageName);
    const o = this.opts(opts, INSTALL_TIMEOUT_MS, true);
    return this.format === "deb"
      ? this.run("apt-get", ["install", "-y", ...names], {
          ...o,
          env: { DEBIAN_FRONTEND: "noninteractive", ...o.env },
        })
      : this.run("yum", ["install", "-y", ...names], o);
  }

  /** `dpkg -P` / `rpm -e`; a package that is not installed is not an error. */
  async remove(name: string, opts: PackageCallOptions = {}): Promise<boolean> {
    checkPackageName(name);
    if ((await this.installedVersion(name, opts)) === undefined) return false;
    if (this.format === "deb")
      await this.run("dpkg", ["-P", name], this.opts(opts, INSTALL_TIMEOUT_MS, true));
    else await this.run("rpm", ["-e", name], this.opts(opts, INSTALL_TIMEOUT_MS, true));
    return true;
  }

  private opts(o: PackageCallOptions, timeoutMs: number, check: boolean) {
    return {
      env: { ...this.baseEnv, ...o.env },
      timeoutMs: o.timeoutMs ?? timeoutMs,
      check,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.redact ? { redact: o.redact } : {}),
    };
  }
}

/** `2.0-6035.0.el7` or `2.0-6035.0.el7.x86_64` -> `2.0-6035.0`; other versions unchanged. */
export function normalizeVersion(v: string): string {
  const m = /^(\d+\.\d+-\d+(?:\.\d+)?)(?:\.el\d+.*)?$/.exec(v.trim());
  return m ? m[1]! : v.trim();
}

/** Orders versions numerically field by field (`2.0-13000.211` > `2.0-6035.0`). */
export function compareVersions(a: string, b: string): number {
  const na = a.split(/[.-]/).map((x) => Number(x) || 0);
  const nb = b.split(/[.-]/).map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The host's package format: an explicit choice, else the distribution's marker files under
 * the root (/etc/debian_version, /etc/redhat-release), else `fallback`.
 */
export async function detectPackageFormat(
  root: HostRoot,
  explicit: string | undefined,
  fallback: PackageFormat | undefined,
): Promise<PackageFormat> {
  if (explicit !== undefined && explicit !== "") {
    if (explicit === "deb" || explicit === "rpm") return explicit;
    throw new PackageError(`package format '${explicit}' is neither 'deb' nor 'rpm'`);
  }
  if (await root.exists("/etc/debian_version")) return "deb";
  if ((await root.exists("/etc/redhat-release")) || (await root.exists("/etc/centos-release")))
    return "rpm";
  if (fallback) return fallback;
  throw new PackageError(
    "cannot tell whether this host uses deb or rpm packages (no /etc/debian_version nor /etc/redhat-release)",
  );
}
