// Which operating system a host runs, as one typed profile per family: package format and
// tools, init system, read-only and writable paths, and the running kernel. Chosen from
// /etc/os-release (or the older release files) and a few probes under the host root, so the
// same code reads a real machine (`/`) and an emulated node's sandbox.
import type { HostRoot } from "./files.js";
import type { PackageFormat } from "./packages.js";

export type OsFamily = "ubuntu" | "debian" | "rhel" | "coreos" | "flatcar" | "generic";
export type InitSystem = "systemd" | "upstart" | "sysv";
/**
 * How packages get onto the host: through the distribution's package tool (dpkg/rpm), or by
 * unpacking their payload ourselves where there is no package manager (CoreOS, Flatcar).
 */
export type InstallMethod = "package-tool" | "unpack";

export interface OsProfile {
  /** A short name: `ubuntu-16.04`, `rhel-7`, `debian-9`, `flatcar`, `generic`. */
  readonly id: string;
  readonly family: OsFamily;
  /** PRETTY_NAME, or the release file's line. */
  readonly prettyName: string;
  readonly versionId: string;
  readonly packages: {
    /** The package files read on this host (on CoreOS/Flatcar: whose payload is unpacked). */
    readonly format: PackageFormat;
    readonly install: InstallMethod;
    /** The OS package tool for prerequisites (`apt-get`, `yum`), or none. */
    readonly osTool: "apt-get" | "yum" | "none";
  };
  readonly init: InitSystem;
  /** Where units or jobs written by us go (`/etc/systemd/system`, `/etc/init`, `/etc/init.d`). */
  readonly serviceDir: string;
  /** Mount points that cannot be written (CoreOS's `/usr`). */
  readonly readOnly: readonly string[];
  /** Paths meant for local software and configuration (CoreOS: `/opt`, `/etc`, `/var`). */
  readonly writable: readonly string[];
  readonly kernel: { readonly release: string | undefined };
}

export class OsProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OsProfileError";
  }
}

/** `KEY=value` lines of os-release(5), quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))
      v = v.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
    out[m[1]!] = v;
  }
  return out;
}

/** Mount points mounted read-only in a /proc/mounts text (kernel and runtime trees left out). */
export function readOnlyMounts(mounts: string): string[] {
  const out: string[] = [];
  for (const line of mounts.split("\n")) {
    const [, point, , options] = line.trim().split(/\s+/);
    if (!point || !options) continue;
    if (!options.split(",").includes("ro")) continue;
    const where = point.replace(/\\040/g, " ");
    if (/^\/(proc|sys|dev|run)(\/|$)/.test(where)) continue;
    out.push(where);
  }
  return out;
}

/** Whether `path` lies under one of `mounts` (a mount point itself counts). */
export function underAny(path: string, mounts: readonly string[]): string | undefined {
  return mounts.find(
    (m) => m === "/" || path === m || path.startsWith(m.endsWith("/") ? m : `${m}/`),
  );
}

export interface DetectOptions {
  /** `deb`/`rpm` chosen by the operator: used when the OS itself does not say. */
  explicitFormat?: string | undefined;
  /** The format of a host nothing identifies (the development profile's rpm). */
  fallbackFormat?: PackageFormat | undefined;
}

const UNIT_DIR = "/etc/systemd/system";

/** Reads the root's release files and probes, and returns the host's profile. */
export async function detectOsProfile(root: HostRoot, o: DetectOptions = {}): Promise<OsProfile> {
  const osRelease = parseOsRelease(
    (await root.readText("/etc/os-release")) ?? (await root.readText("/usr/lib/os-release")) ?? "",
  );
  const kernel = (await root.readText("/proc/sys/kernel/osrelease"))?.trim() || undefined;
  const mountsRo = readOnlyMounts((await root.readText("/proc/mounts")) ?? "");
  const probes = {
    systemd: await root.exists("/run/systemd/system"),
    upstart: (await root.exists("/sbin/initctl")) && (await root.exists("/etc/init")),
  };
  const explicit = checkFormat(o.explicitFormat);
  const id = (osRelease.ID ?? "").toLowerCase();
  const like = (osRelease.ID_LIKE ?? "").toLowerCase().split(/\s+/);
  const versionId = osRelease.VERSION_ID ?? "";
  const major = versionId.split(".")[0] ?? "";
  const pretty = osRelease.PRETTY_NAME ?? osRelease.NAME ?? "";

  // The init system a release ships with, unless a probe shows otherwise (a 14.04 host moved
  // to systemd, a Debian 7 one with systemd installed).
  const initOf = (shipped: InitSystem): InitSystem =>
    probes.systemd ? "systemd" : probes.upstart ? "upstart" : shipped;
  const profile = (
    family: OsFamily,
    name: string,
    format: PackageFormat,
    install: InstallMethod,
    init: InitSystem,
    fixedReadOnly: string[] = [],
    writable: string[] = ["/opt", "/etc", "/var", "/usr"],
  ): OsProfile => ({
    id: name,
    family,
    prettyName: pretty || name,
    versionId,
    packages: {
      format,
      install,
      osTool: install === "unpack" ? "none" : format === "deb" ? "apt-get" : "yum",
    },
    init,
    serviceDir: init === "systemd" ? UNIT_DIR : init === "upstart" ? "/etc/init" : "/etc/init.d",
    readOnly: [...new Set([...fixedReadOnly, ...mountsRo])],
    writable: writable.filter((w) => !underAny(w, [...fixedReadOnly, ...mountsRo])),
    kernel: { release: kernel },
  });

  if (id === "coreos" || id === "flatcar") {
    // No package manager and a read-only /usr: payloads are unpacked under /opt, units go to
    // /etc/systemd/system. rpm is the payload read unless the operator chose deb.
    return profile(
      id,
      id,
      explicit ?? "rpm",
      "unpack",
      "systemd",
      ["/usr"],
      ["/opt", "/etc", "/var"],
    );
  }
  if (id === "ubuntu") {
    return profile(
      "ubuntu",
      `ubuntu-${versionId}`,
      "deb",
      "package-tool",
      initOf(Number(major) < 15 ? "upstart" : "systemd"),
    );
  }
  if (id === "debian" || like.includes("debian")) {
    return profile(
      "debian",
      `debian-${major || "unknown"}`,
      "deb",
      "package-tool",
      initOf(Number(major) > 0 && Number(major) < 8 ? "sysv" : "systemd"),
    );
  }
  if (["rhel", "centos", "ol", "rocky", "almalinux"].includes(id) || like.includes("rhel")) {
    return profile(
      "rhel",
      `rhel-${major || "unknown"}`,
      "rpm",
      "package-tool",
      initOf(Number(major) > 0 && Number(major) < 7 ? "sysv" : "systemd"),
    );
  }
  // RHEL/CentOS 6 have no os-release: their release file says which.
  const redhat =
    (await root.readText("/etc/redhat-release")) ?? (await root.readText("/etc/centos-release"));
  if (!id && redhat) {
    const v = /release\s+(\d+)(?:\.(\d+))?/.exec(redhat);
    const m = v?.[1] ?? "";
    const p = profile(
      "rhel",
      `rhel-${m || "unknown"}`,
      "rpm",
      "package-tool",
      initOf(Number(m) > 0 && Number(m) < 7 ? "sysv" : "systemd"),
    );
    return {
      ...p,
      prettyName: redhat.trim(),
      versionId: v ? `${v[1]}${v[2] ? `.${v[2]}` : ""}` : "",
    };
  }
  // Something else: the operator's choice, else the marker files, else the fallback.
  const format =
    explicit ?? ((await root.exists("/etc/debian_version")) ? "deb" : o.fallbackFormat);
  if (!format) {
    throw new OsProfileError(
      `unsupported operating system${pretty ? ` '${pretty}'` : ""}: no /etc/os-release naming Ubuntu, Debian, RHEL/CentOS, CoreOS or Flatcar, and no package format given (SCALEIO_FRAMEWORK_PACKAGE_FORMAT)`,
    );
  }
  return profile(
    "generic",
    id ? `${id}-${versionId || "unknown"}` : "generic",
    format,
    "package-tool",
    initOf("systemd"),
  );
}

function checkFormat(explicit: string | undefined): PackageFormat | undefined {
  if (explicit === undefined || explicit === "") return undefined;
  if (explicit === "deb" || explicit === "rpm") return explicit;
  throw new OsProfileError(`package format '${explicit}' is neither 'deb' nor 'rpm'`);
}
