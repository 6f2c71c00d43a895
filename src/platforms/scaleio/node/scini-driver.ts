// The SDC's kernel driver (scini) is built per kernel (reference 2.5). Before the SDC is
// installed, the running kernel's release is looked up: in the SDC package itself (a payload
// file `<...>/<kernel release>/scini.ko` or `scini.tar`), else in a driver repository
// (`--sdc-driver-repo`), laid out as ScaleIO's driver_sync expects: `<repo>/<kernel>/scini.tar`
// (the repo being the folder for this OS and ScaleIO version; layout unverified). A driver
// from the repository is put in driver_sync's local cache, where the SDC's start picks it up.
// With none the step fails with the reason, and nothing else is touched. The predecessor
// pinned a kernel and rebooted the node into it; this never reboots (README: "Kernels").
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StepError, type StepContext } from "../../../framework/node-task/handler.js";
import { download, DownloadError } from "../../../host/download.js";
import { readPackageArchive } from "../../../host/package-archive.js";

/** driver_sync's local cache (`local_dir`), per kernel; under /opt where /bin is read-only. */
export function driverCacheDir(install: "package-tool" | "unpack", kernel: string): string {
  const base =
    install === "unpack"
      ? "/opt/emc/scaleio/sdc/scini_sync/driver_cache"
      : "/bin/emc/scaleio/scini_sync/driver_cache";
  return `${base}/${kernel}`;
}

/** Kernel releases are plain words (`4.15.0-112-generic`, `3.10.0-1160.el7.x86_64`). */
const KERNEL = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

export type SciniDriver =
  | { kernel: string; source: "package"; path: string }
  | { kernel: string; source: "repository"; path: string; url: string }
  | { kernel: undefined; source: "unchecked"; why: string };

/** Whether a package payload holds a driver for `kernel`: its path, or undefined. */
export function driverInPayload(paths: string[], kernel: string): string | undefined {
  return paths.find((p) => {
    const parts = p.split("/");
    return /^scini\.(ko|tar)$/.test(parts.at(-1) ?? "") && parts.at(-2) === kernel;
  });
}

/**
 * Finds the running kernel's scini driver for the SDC package at `packageFile`; throws a
 * permanent StepError ("no scini driver for kernel <k> in <where>") when there is none.
 */
export async function findSciniDriver(
  packageFile: string,
  packageName: string,
  repo: string | undefined,
  ctx: StepContext,
): Promise<SciniDriver> {
  const { host } = ctx;
  const kernel = host.os.kernel.release;
  if (!kernel)
    return { kernel: undefined, source: "unchecked", why: "the kernel release is unknown" };
  if (!KERNEL.test(kernel)) {
    throw new StepError(`the kernel release '${kernel}' is not a plain name`, { permanent: true });
  }
  let unreadable: string | undefined;
  try {
    const archive = await readPackageArchive(await readFile(packageFile));
    const found = driverInPayload(
      archive.entries.map((e) => e.path),
      kernel,
    );
    if (found) return { kernel, source: "package", path: found };
  } catch (err) {
    // A payload this reader cannot open (xz...) cannot be searched: the repository may still help.
    unreadable = (err as Error).message;
  }
  if (!repo) {
    if (unreadable) {
      ctx.progress(`could not look for a scini driver in ${packageName}: ${unreadable}`);
      return { kernel: undefined, source: "unchecked", why: unreadable };
    }
    throw new StepError(
      `no scini driver for kernel ${kernel} in ${packageName} (and no --sdc-driver-repo to look in)`,
      { permanent: true },
    );
  }
  const url = `${repo.replace(/\/+$/, "")}/${kernel}/scini.tar`;
  ctx.progress(`looking for the scini driver for kernel ${kernel} in ${repo}`);
  let local: string;
  try {
    local = await download(url, {
      cacheDir: join(host.cacheDir, "scini", kernel),
      signal: ctx.signal,
      maxBytes: 256 * 1024 ** 2,
      ...(host.ca ? { ca: host.ca } : {}),
    });
  } catch (err) {
    if (err instanceof DownloadError && err.permanent) {
      throw new StepError(`no scini driver for kernel ${kernel} in ${repo}`, { permanent: true });
    }
    if (err instanceof DownloadError) {
      throw new StepError(`the SDC driver repository ${repo} did not answer: ${err.message}`);
    }
    throw err;
  }
  const dir = driverCacheDir(host.packages.method, kernel);
  await host.root.writeAtomic(`${dir}/scini.tar`, await readFile(local));
  return { kernel, source: "repository", path: `${dir}/scini.tar`, url };
}
