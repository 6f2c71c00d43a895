// scaleio.install-package: one ScaleIO component from a package file, with the install
// environment of reference 2.3 (MDM_ROLE_IS_MANAGER, MDM_IP, TOKEN, GATEWAY_ADMIN_PASSWORD),
// judged by the success marker. Idempotent: the installed version is read first and the
// step does nothing when it is the wanted one (or newer: downgrades are never done here).
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { download, DownloadError, fileNameOf, parseDownloadUrl } from "../../../host/download.js";
import { compareVersions } from "../../../host/packages.js";
import type { InitSystem } from "../../../host/os-profile.js";
import { HostCommandError } from "../../../host/process.js";
import {
  componentSchema,
  ipSchema,
  packageName,
  parsePackageFile,
  tail,
  type Component,
} from "./common.js";
import { pointSdcAt } from "./mdm-addresses.js";
import { findSciniDriver } from "./scini-driver.js";
import { unpackAndStart } from "./unpacked-install.js";

const MARKERS: Record<"rpm" | "deb", Record<Component, RegExp>> = {
  rpm: {
    mdm: /Created symlink from/,
    sds: /Created symlink from/,
    lia: /Created symlink from/,
    sdc: /Starting scini/,
    gateway: /The EMC ScaleIO Gateway is running/,
  },
  deb: {
    mdm: /mdm start\/running/,
    sds: /sds start\/running/,
    lia: /lia start\/running/,
    sdc: /Success configuring module/,
    gateway: /The EMC ScaleIO Gateway is running/,
  },
};

/**
 * The success marker: the MDM's, SDS's and LIA's are their init system's words (systemd's
 * "Created symlink", upstart's "start/running"; reference 2.3), so a deb on a systemd
 * Ubuntu says what an rpm on RHEL 7 says; SysV (RHEL 6) may print either. A host whose OS
 * is not known keeps the package format's marker.
 */
function markerFor(format: "rpm" | "deb", init: InitSystem, family: string, c: Component) {
  if (family === "generic" || c === "sdc" || c === "gateway") return MARKERS[format][c];
  if (init === "systemd") return MARKERS.rpm[c];
  if (init === "upstart") return MARKERS.deb[c];
  return new RegExp(`${MARKERS.rpm[c].source}|${MARKERS.deb[c].source}`);
}

const MDM_CONF = "/opt/emc/scaleio/mdm/cfg/conf.txt";

export const installPackageParams = z
  .object({
    component: componentSchema,
    url: z.string().max(2000),
    /** The version the scheduler expects; must match the file name's. */
    version: z
      .string()
      .regex(/^\d+\.\d+-\d+(\.\d+)?$/)
      .optional(),
    mdmRole: z.enum(["manager", "tiebreaker"]).optional(),
    /** Manager MDM IPs for the SDC (MDM_IP). */
    mdmIps: z.array(ipSchema).min(1).max(5).optional(),
    /** SDC only: where scini drivers for kernels the package lacks are (--sdc-driver-repo). */
    driverRepo: z
      .string()
      .max(2000)
      .regex(/^(https?|file):\/\/\S+$/, "must be an http(s) or file URL")
      .optional(),
  })
  .strict()
  .superRefine((p, issue) => {
    if (p.component === "mdm" && !p.mdmRole)
      issue.addIssue({ code: "custom", path: ["mdmRole"], message: "is required for the MDM" });
    if (p.component !== "mdm" && p.mdmRole)
      issue.addIssue({ code: "custom", path: ["mdmRole"], message: "is only for the MDM" });
    if (p.component === "sdc" && !p.mdmIps)
      issue.addIssue({ code: "custom", path: ["mdmIps"], message: "is required for the SDC" });
    if (p.component !== "sdc" && p.driverRepo)
      issue.addIssue({ code: "custom", path: ["driverRepo"], message: "is only for the SDC" });
  });

type InstallPackageParams = z.infer<typeof installPackageParams>;

export const installPackage = defineHandler({
  kind: "scaleio.install-package",
  params: installPackageParams,
  run: (p, ctx) => install(p, ctx),
});

/**
 * scaleio.install-packages: several components of one agent in one step, in the order given
 * (the SDS and the LIA of a data node: one task instead of one each, every task being a round
 * trip through Mesos). Each install is the one above, so the step is as idempotent: a retry
 * skips what is installed already.
 */
export const installPackages = defineHandler({
  kind: "scaleio.install-packages",
  params: z
    .object({ packages: z.array(installPackageParams).min(1).max(5) })
    .strict()
    .refine(
      (p) => new Set(p.packages.map((x) => x.component)).size === p.packages.length,
      "each component at most once",
    ),
  async run(p, ctx) {
    const out = [];
    for (const one of p.packages) {
      ctx.signal.throwIfAborted();
      out.push(await install(one, ctx));
    }
    return out;
  },
});

async function install(p: InstallPackageParams, ctx: StepContext) {
  const { host, signal } = ctx;
  const format = host.packages.format;
  let url: URL;
  let file: string;
  try {
    url = parseDownloadUrl(p.url);
    file = fileNameOf(url);
  } catch (err) {
    throw new StepError(`url: ${(err as Error).message}`, { permanent: true });
  }
  const parsed = parsePackageFile(file);
  if (!parsed) {
    throw new StepError(`url: '${file}' is not a ScaleIO package file name`, { permanent: true });
  }
  if (parsed.component !== p.component) {
    throw new StepError(`url: '${file}' is the ${parsed.component} package, not ${p.component}`, {
      permanent: true,
    });
  }
  if (parsed.format !== format) {
    throw new StepError(`url: '${file}' is a ${parsed.format} package; this host uses ${format}`, {
      permanent: true,
    });
  }
  if (p.version && p.version !== parsed.version) {
    throw new StepError(`version ${p.version} does not match the file's ${parsed.version}`, {
      permanent: true,
    });
  }
  const name = packageName(p.component, format);
  const wanted = parsed.version;
  const current = await host.packages.installedVersion(name, { signal });
  if (p.component === "mdm" && current) await checkMdmRole(ctx.host.root, p.mdmRole!);
  if (current && compareVersions(current, wanted) >= 0) {
    ctx.progress(`${name} ${current} already installed`);
    // Installed earlier with other managers (an MDM replaced since): pointed at these. A driver
    // that does not answer is left to the SDC's repair, which applies the addresses again.
    const sdc = p.component === "sdc" ? await pointSdcAt(p.mdmIps!, ctx) : undefined;
    if (sdc && !sdc.ok) ctx.progress(`the SDC driver does not answer: ${sdc.why}`);
    const changed = sdc?.ok === true && sdc.changed;
    return { component: p.component, package: name, version: current, changed };
  }

  const env: Record<string, string> = {};
  const redact: string[] = [];
  if (p.component === "mdm") env.MDM_ROLE_IS_MANAGER = p.mdmRole === "manager" ? "1" : "0";
  if (p.component === "sdc") env.MDM_IP = p.mdmIps!.join(",");
  if (p.component === "lia" || p.component === "gateway") {
    const pw = (await ctx.secrets()).adminPassword.reveal();
    env[p.component === "lia" ? "TOKEN" : "GATEWAY_ADMIN_PASSWORD"] = pw;
    redact.push(pw);
  }

  ctx.progress(`downloading ${file}`);
  let path: string;
  try {
    path = await download(url.href, {
      cacheDir: host.cacheDir,
      signal,
      ...(host.ca ? { ca: host.ca } : {}),
    });
  } catch (err) {
    if (err instanceof DownloadError)
      throw new StepError(`download failed: ${err.message}`, { permanent: err.permanent });
    throw err;
  }
  // The SDC's kernel driver must exist for the running kernel: fail here, with the reason,
  // rather than install a client that cannot load.
  const driver =
    p.component === "sdc" ? await findSciniDriver(path, file, p.driverRepo, ctx) : undefined;
  if (driver && driver.source !== "unchecked")
    ctx.progress(`scini driver for kernel ${driver.kernel}: ${driver.path} (${driver.source})`);
  if (host.packages.method === "unpack") {
    ctx.progress(`unpacking ${file} (${host.os.prettyName} has no package manager)`);
    const text = await unpackAndStart(
      p.component,
      path,
      env,
      driver && driver.source !== "unchecked" ? driver.path : undefined,
      ctx,
    );
    return finish(p, name, wanted, current, ctx, text);
  }
  ctx.progress(`installing ${file}`);
  let out: string;
  try {
    out = (await host.packages.installFile(path, { env, redact, signal })).stdout;
  } catch (err) {
    if (err instanceof HostCommandError) throw new StepError(err.message, { cause: err });
    throw err;
  }
  if (!markerFor(format, host.os.init, host.os.family, p.component).test(out)) {
    throw new StepError(
      `${name} ${wanted}: no success marker in the installer output: ${tail(out)}`,
    );
  }
  return finish(p, name, wanted, current, ctx);
}

/** The version installed is the one wanted: the step's result. */
async function finish(
  p: InstallPackageParams,
  name: string,
  wanted: string,
  current: string | undefined,
  ctx: StepContext,
  detail?: string,
) {
  const now = await ctx.host.packages.installedVersion(name, { signal: ctx.signal });
  if (now !== wanted) {
    throw new StepError(
      `${name}: installed version is ${now ?? "none"} after installing ${wanted}`,
    );
  }
  if (detail) ctx.progress(detail);
  return {
    component: p.component,
    package: name,
    version: wanted,
    changed: true,
    ...(current ? { previousVersion: current } : {}),
  };
}

/** The MDM's role is fixed at install time: refuse to pretend a TB became a manager. */
async function checkMdmRole(
  root: { readText(p: string): Promise<string | undefined> },
  role: "manager" | "tiebreaker",
): Promise<void> {
  const conf = await root.readText(MDM_CONF);
  const m = conf ? /actor_role_is_manager=([01])/.exec(conf) : null;
  if (!m) return;
  const installedAs = m[1] === "1" ? "manager" : "tiebreaker";
  if (installedAs !== role) {
    throw new StepError(
      `the MDM here was installed as a ${installedAs}, not a ${role}; remove the package to change its role`,
      { permanent: true },
    );
  }
}
