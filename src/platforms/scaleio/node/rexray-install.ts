// scaleio.rexray-install: puts REX-Ray (and dvdcli, for the Mesos isolators) on the agent from
// the configured download, runs REX-Ray as a service of the host's init system, and proves it:
// the step succeeds only once `rexray volume ls` lists the cluster's volumes through the
// ScaleIO driver with the configuration scaleio.rexray-config wrote (/etc/rexray/config.yml).
// Downloads are the projects' tarballs (one program inside), or rpm/deb packages installed
// with the host's package tool; a program is written again only when its bytes changed.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { download, DownloadError, fileNameOf, parseDownloadUrl } from "../../../host/download.js";
import { HostCommandError } from "../../../host/process.js";
import { programFromTarGz } from "./rexray-archive.js";
import { writeAndStartService, type ServiceResult } from "./rexray-service.js";
import { REXRAY_CONFIG } from "./rexray-config.js";
import { recordPrograms, sha256Of, type RecordedProgram } from "./rexray-record.js";
import { readPackageArchive } from "../../../host/package-archive.js";

const url = z
  .string()
  .max(2000)
  .regex(/^(https?|file):\/\/\S+$/, "must be an http(s) or file URL");

export const rexrayInstallParams = z
  .object({
    /** REX-Ray's download: `rexray-Linux-x86_64-<v>.tar.gz`, a .rpm/.deb, or the program. */
    rexrayUrl: url,
    /** dvdcli's download, likewise (the isolators call it). */
    dvdcliUrl: url.optional(),
  })
  .strict();

export type RexrayInstallParams = z.infer<typeof rexrayInstallParams>;

/** Where a program lands: /usr/bin, or /opt/bin where /usr is read-only (CoreOS, Flatcar). */
export function binDirOf(readOnly: readonly string[]): string {
  return readOnly.some((m) => m === "/" || m === "/usr") ? "/opt/bin" : "/usr/bin";
}

const PROGRAM_DIRS = ["/usr/bin", "/opt/bin", "/usr/local/bin"];

export interface InstalledProgram {
  path: string;
  changed: boolean;
  /** The downloaded file's name. */
  from: string;
  version?: string;
  /** What an uninstall takes away (undefined: a package we cannot name brought it: kept). */
  record?: RecordedProgram;
}

/** Downloads `raw` and installs `program` from it; idempotent. */
export async function installProgram(
  raw: string,
  program: "rexray" | "dvdcli",
  ctx: StepContext,
): Promise<InstalledProgram> {
  let local: string;
  let file: string;
  try {
    const u = parseDownloadUrl(raw);
    file = fileNameOf(u);
    ctx.progress(`downloading ${file}`);
    local = await download(u.href, {
      cacheDir: ctx.host.cacheDir,
      signal: ctx.signal,
      ...(ctx.host.ca ? { ca: ctx.host.ca } : {}),
    });
  } catch (err) {
    if (err instanceof DownloadError)
      throw new StepError(`${program}: ${err.message}`, { permanent: err.permanent });
    throw err;
  }
  const root = ctx.host.root;
  if (/\.(rpm|deb)$/.test(file)) {
    const format = file.endsWith(".rpm") ? "rpm" : "deb";
    if (format !== ctx.host.packages.format)
      throw new StepError(
        `${program}: ${file} is a ${format} package; this host reads ${ctx.host.packages.format}`,
        {
          permanent: true,
        },
      );
    const before = await locate(ctx, program);
    const old = before ? await readFile(root.resolve(before)).catch(() => undefined) : undefined;
    ctx.progress(`installing ${file}`);
    try {
      await ctx.host.packages.installFile(local, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof HostCommandError)
        throw new StepError(`${program}: installing ${file} failed: ${err.message}`);
      throw err;
    }
    const path = await locate(ctx, program);
    if (!path)
      throw new StepError(`${program}: ${file} installed no ${program} program`, {
        permanent: true,
      });
    const now = await readFile(root.resolve(path));
    const pkg = await packageNameOf(local, ctx);
    return {
      path,
      changed: !old || !old.equals(now),
      from: file,
      ...(pkg ? { record: { path, sha256: sha256Of(now), package: pkg } } : {}),
    };
  }
  let bytes: Buffer;
  if (/\.(tar\.gz|tgz)$/.test(file)) {
    let found: Buffer | undefined;
    try {
      found = programFromTarGz(await readFile(local), program);
    } catch (err) {
      throw new StepError(
        `${program}: ${file} is not a readable gzipped tar: ${(err as Error).message}`,
        {
          permanent: true,
        },
      );
    }
    if (!found)
      throw new StepError(`${program}: ${file} holds no file named ${program}`, {
        permanent: true,
      });
    bytes = found;
  } else if (
    file === program ||
    (file.startsWith(`${program}-`) && !/\.(zip|gz|tgz|bz2|xz|tar|rpm|deb)$/i.test(file))
  ) {
    bytes = await readFile(local);
  } else {
    throw new StepError(
      `${program}: ${file} is neither a .tar.gz, a .rpm/.deb nor the ${program} program`,
      {
        permanent: true,
      },
    );
  }
  const path = `${binDirOf(ctx.host.os.readOnly)}/${program}`;
  const changed = await root.writeAtomic(path, bytes, { mode: 0o755 });
  return { path, changed, from: file, record: { path, sha256: sha256Of(bytes) } };
}

/** The name inside a downloaded package (for its removal), or undefined when unreadable. */
async function packageNameOf(local: string, ctx: StepContext): Promise<string | undefined> {
  try {
    return (await readPackageArchive(await readFile(local))).name;
  } catch (err) {
    ctx.progress(
      `cannot name the package in ${local} (${(err as Error).message}): an uninstall keeps it`,
    );
    return undefined;
  }
}

async function locate(ctx: StepContext, program: string): Promise<string | undefined> {
  for (const dir of PROGRAM_DIRS)
    if (await ctx.host.root.exists(`${dir}/${program}`)) return `${dir}/${program}`;
  return undefined;
}

/** `SemVer: 0.11.4` from `<program> version`, when it says. */
async function versionOf(ctx: StepContext, path: string): Promise<string | undefined> {
  const r = await ctx.host.run(ctx.host.root.resolve(path), ["version"], {
    check: false,
    timeoutMs: 30_000,
    signal: ctx.signal,
  });
  return /SemVer:\s*(\S+)/.exec(r.stdout)?.[1];
}

/** The volumes REX-Ray lists (`rexray volume ls --format json`), by name. */
export function parseVolumeList(stdout: string): { id: string; name: string }[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new StepError(`rexray volume ls printed no JSON: ${stdout.trim().slice(0, 200)}`);
  }
  if (!Array.isArray(doc)) throw new StepError("rexray volume ls did not print a list");
  return doc.flatMap((v) =>
    v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string"
      ? [{ id: (v as { id: string }).id, name: String((v as { name?: unknown }).name ?? "") }]
      : [],
  );
}

/** The step's answer names what was installed; the digests stay in the node's record. */
function withoutRecord({ record: _record, ...rest }: InstalledProgram): InstalledProgram {
  return rest;
}

export interface RexrayInstallResult {
  rexray: InstalledProgram;
  dvdcli?: InstalledProgram;
  service: ServiceResult;
  /** Names of the volumes REX-Ray listed through its ScaleIO driver. */
  volumes: string[];
}

export const rexrayInstall = defineHandler({
  kind: "scaleio.rexray-install",
  params: rexrayInstallParams,
  async run(p, ctx): Promise<RexrayInstallResult> {
    if (!(await ctx.host.root.exists(REXRAY_CONFIG)))
      throw new StepError(`${REXRAY_CONFIG} is missing: REX-Ray's configuration is written first`);
    const rexray = await installProgram(p.rexrayUrl, "rexray", ctx);
    const version = await versionOf(ctx, rexray.path);
    if (version) rexray.version = version;
    const dvdcli = p.dvdcliUrl ? await installProgram(p.dvdcliUrl, "dvdcli", ctx) : undefined;
    // Recorded before the service starts: an uninstall after a failed start still finds them.
    const written = [rexray.record, dvdcli?.record].filter((r): r is RecordedProgram => !!r);
    if (written.length > 0) await recordPrograms(ctx.host.root, written);
    ctx.progress("starting the REX-Ray service");
    const service = await writeAndStartService(
      ctx,
      {
        name: "rexray",
        description: "REX-Ray volume driver (ScaleIO)",
        foreground: [rexray.path, "start", "-f"],
        sysv: {
          start: [rexray.path, "start"],
          stop: [rexray.path, "stop"],
          status: [rexray.path, "status"],
        },
      },
      { restart: rexray.changed },
    );
    ctx.progress("listing volumes through REX-Ray");
    const r = await ctx.host.run(
      ctx.host.root.resolve(rexray.path),
      ["volume", "ls", "--format", "json"],
      {
        check: false,
        timeoutMs: 120_000,
        signal: ctx.signal,
      },
    );
    if (r.exitCode !== 0)
      throw new StepError(
        `REX-Ray cannot list the cluster's volumes through its ScaleIO driver: ${(r.stderr || r.stdout).trim().split("\n").at(-1) ?? `exit ${r.exitCode}`}`,
      );
    const volumes = parseVolumeList(r.stdout).map((v) => v.name);
    return {
      rexray: withoutRecord(rexray),
      ...(dvdcli ? { dvdcli: withoutRecord(dvdcli) } : {}),
      service,
      volumes,
    };
  },
});
