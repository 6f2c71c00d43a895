// What kind of host the executor runs on, chosen by SCALEIO_FRAMEWORK_HOST_PROFILE:
//   linux  a real machine: root `/`, block devices from lsblk (plus a signature probe);
//   dev    a development-cluster node: root SCALEIO_SIM_ROOT, devices are files under
//          <root>/dev; the package tools, scli and drv_cfg on PATH are the emulator's, and
//          only programs in SCALEIO_SIM_TOOLS or under the root are ever run (never the
//          real machine's, see emulated-node.ts).
// Steps use only this interface, so the same step code runs on both.
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { discoverBlockDevices, discoverFileDevices, type DiscoveredDevice } from "./devices.js";
import { HostRoot } from "./files.js";
import { PackageManager, type Packages } from "./packages.js";
import { detectOsProfile, type OsProfile } from "./os-profile.js";
import { UnpackedPackages } from "./unpacked-packages.js";
import { run as spawnProgram, type RunOptions, type RunResult } from "./process.js";
import { confineToEmulatedNode } from "./emulated-node.js";

export const HOST_ENV = {
  profile: "SCALEIO_FRAMEWORK_HOST_PROFILE",
  /** `deb` or `rpm`, when /etc/os-release cannot tell (or the payload read on CoreOS/Flatcar). */
  packageFormat: "SCALEIO_FRAMEWORK_PACKAGE_FORMAT",
  /** Where downloaded packages are kept (default <root>/var/cache/scaleio-framework). */
  cacheDir: "SCALEIO_FRAMEWORK_CACHE_DIR",
  caFile: "SCALEIO_FRAMEWORK_CA_FILE",
  simRoot: "SCALEIO_SIM_ROOT",
  /** The dev profile's tool folders (`:`-separated): the only place its programs come from. */
  simTools: "SCALEIO_SIM_TOOLS",
} as const;

export type HostProfileName = "linux" | "dev";

/** Runs a program on the host: an argument array, never a shell string. */
export type ProgramRunner = (
  program: string,
  args: string[],
  opts?: RunOptions,
) => Promise<RunResult>;

export interface HostProfile {
  readonly name: HostProfileName;
  readonly root: HostRoot;
  /** The operating system: package format and method, init system, read-only paths, kernel. */
  readonly os: OsProfile;
  readonly packages: Packages;
  /** Folder for downloaded package files. */
  readonly cacheDir: string;
  /** PEM CA for https downloads, when configured. */
  readonly ca: string | undefined;
  /** Raw-device candidates, each marked usable or not (with the reason). */
  discoverDevices(): Promise<DiscoveredDevice[]>;
  /** How to run drv_cfg: its documented path under the root, else `drv_cfg` on PATH. */
  drvCfgCommand(): Promise<string>;
  /** Runs a program on this host (a child process, unless the profile was given a stand-in). */
  readonly run: ProgramRunner;
}

export class HostProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostProfileError";
  }
}

const DRV_CFG = "/opt/emc/scaleio/sdc/bin/drv_cfg";

class Profile implements HostProfile {
  constructor(
    readonly name: HostProfileName,
    readonly root: HostRoot,
    readonly os: OsProfile,
    readonly packages: Packages,
    readonly cacheDir: string,
    readonly ca: string | undefined,
    readonly run: ProgramRunner,
  ) {}

  async discoverDevices(): Promise<DiscoveredDevice[]> {
    if (this.name === "linux") return discoverBlockDevices();
    // The SDC's own nodes (scini, scini<x> for mapped volumes) are not raw disks.
    const all = await discoverFileDevices(this.root.resolve("/dev"), "/dev");
    return all.filter((d) => !/^\/dev\/scini/.test(d.path));
  }

  async drvCfgCommand(): Promise<string> {
    return (await this.root.exists(DRV_CFG)) ? this.root.resolve(DRV_CFG) : "drv_cfg";
  }
}

/**
 * Builds the profile from the environment (default `process.env`). `run` replaces spawning
 * programs; the development cluster's zero-latency mode answers them in-process.
 */
export async function hostProfileFromEnv(
  env: Record<string, string | undefined> = process.env,
  opts: { run?: ProgramRunner } = {},
): Promise<HostProfile> {
  const name = env[HOST_ENV.profile] || "linux";
  if (name !== "linux" && name !== "dev") {
    throw new HostProfileError(`${HOST_ENV.profile}='${name}' is neither 'linux' nor 'dev'`);
  }
  let rootPath = "/";
  if (name === "dev") {
    const sim = env[HOST_ENV.simRoot];
    if (!sim) throw new HostProfileError(`${HOST_ENV.simRoot} is required with the dev profile`);
    rootPath = sim;
  }
  let root: HostRoot;
  try {
    root = new HostRoot(rootPath);
  } catch (err) {
    throw new HostProfileError((err as Error).message);
  }
  // The emulator's tools understand both formats; rpm is its reference flavour.
  const os = await detectOsProfile(root, {
    explicitFormat: env[HOST_ENV.packageFormat],
    fallbackFormat: name === "dev" ? "rpm" : undefined,
  }).catch((err: Error) => {
    throw new HostProfileError(err.message);
  });
  root = root.withReadOnly(os.readOnly);
  const cacheDir = env[HOST_ENV.cacheDir] || root.resolve("/var/cache/scaleio-framework");
  const caFile = env[HOST_ENV.caFile];
  const ca = caFile ? await readFile(caFile, "utf8") : undefined;
  let run = opts.run ?? spawnProgram;
  if (name === "dev" && !opts.run) {
    const toolDirs = (env[HOST_ENV.simTools] ?? "").split(":").filter(Boolean);
    try {
      run = confineToEmulatedNode(spawnProgram, { root: rootPath, toolDirs });
    } catch (err) {
      throw new HostProfileError((err as Error).message);
    }
  }
  const packages =
    os.packages.install === "unpack"
      ? new UnpackedPackages(root, os.packages.format, os.prettyName)
      : new PackageManager(os.packages.format, {}, run);
  return new Profile(name, root, os, packages, join(cacheDir), ca, run);
}
