// scaleio.isolator-config: the mesos-module-dvdi files of reference 7.2 — the module
// description JSON, /etc/mesos-slave/modules and /etc/mesos-slave/isolation (the isolator
// prepended, never duplicated). It never restarts the agent nor reboots: it returns the
// flags an operator must apply and whether a restart is needed.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { download, DownloadError, fileNameOf, parseDownloadUrl } from "../../../host/download.js";

export const DVDI_ISOLATOR = "com_emccode_mesos_DockerVolumeDriverIsolator";
const MODULES = "/etc/mesos-slave/modules";
const ISOLATION = "/etc/mesos-slave/isolation";

const hostPath = z
  .string()
  .max(500)
  .regex(/^\/[A-Za-z0-9._/+-]*$/, "must be an absolute path of letters, digits and ._/+-")
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

export const isolatorParams = z
  .object({
    /**
     * `module`: the mesos-module-dvdi isolator (Mesos 0.23 … 1.2, reference 7.2);
     * `docker-volume`: Mesos' built-in docker/volume isolator (Mesos >= 1.0, reference 7.3),
     * which needs `filesystem/linux,docker/volume` in --isolation and dvdcli on the PATH.
     */
    mode: z.enum(["module", "docker-volume"]).default("module"),
    /** The module library, e.g. /usr/lib/libmesos_dvdi_isolator-1.1.0.so. */
    isolatorPath: hostPath.refine((s) => s.endsWith(".so"), "must be a .so file").optional(),
    /**
     * Where to fetch the module library from (`--isolator-binary`); it is installed as
     * /usr/lib/<its file name>, which then is the isolatorPath.
     */
    isolatorUrl: z.string().max(2000).optional(),
    /** Where the module description goes (default /usr/lib/dvdi-mod.json). */
    modulesFile: hostPath
      .refine((s) => s.endsWith(".json"), "must be a .json file")
      .default("/usr/lib/dvdi-mod.json"),
    isolatorCommand: hostPath.default("/emc/dvdi_isolator"),
  })
  .strict()
  .superRefine((p, issue) => {
    if (p.mode === "module" && !p.isolatorPath && !p.isolatorUrl)
      issue.addIssue({
        code: "custom",
        path: ["isolatorPath"],
        message: "is required with the module isolator (or isolatorUrl)",
      });
  });

/** Isolators Mesos' built-in docker/volume support needs (reference 7.3). */
export const DOCKER_VOLUME_ISOLATORS = ["filesystem/linux", "docker/volume"];
// Where scaleio.rexray-install puts it (/opt/bin where /usr is read-only), or a package did.
const DVDCLI = ["/usr/bin/dvdcli", "/usr/local/bin/dvdcli", "/opt/bin/dvdcli"];

/** The isolation list with each wanted isolator present once (the operator's order kept). */
export function withIsolators(current: string | undefined, wanted: string[]): string {
  const have = (current ?? "")
    .trim()
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const out = [...new Set(have)];
  for (const w of wanted) if (!out.includes(w)) out.push(w);
  return out.join(",");
}

export function modulesDocument(p: z.infer<typeof isolatorParams>): string {
  const doc = {
    libraries: [
      {
        file: p.isolatorPath!,
        modules: [
          {
            name: DVDI_ISOLATOR,
            parameters: [{ key: "isolator_command", value: p.isolatorCommand }],
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The isolation list with the DVDI isolator first, each entry once. */
export function prependIsolator(current: string | undefined): string {
  const rest = (current ?? "")
    .trim()
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s && s !== DVDI_ISOLATOR);
  return [DVDI_ISOLATOR, ...rest].join(",");
}

export const isolatorConfig = defineHandler({
  kind: "scaleio.isolator-config",
  params: isolatorParams,
  async run(params, ctx) {
    let p = params;
    const root = ctx.host.root;
    const changed: string[] = [];
    const dvdcliPresent = (await Promise.all(DVDCLI.map((f) => root.exists(f)))).some(Boolean);
    if (p.mode === "docker-volume") {
      const current = await root.readText(ISOLATION);
      const isolation = withIsolators(current, DOCKER_VOLUME_ISOLATORS);
      if (
        isolation !== (current ?? "").trim() &&
        (await root.writeAtomic(ISOLATION, `${isolation}\n`))
      )
        changed.push(ISOLATION);
      return {
        mode: p.mode,
        changed,
        dvdcliPresent,
        agentFlags: [`--isolation=${isolation}`],
        agentRestartRequired: changed.length > 0,
      };
    }
    if (p.isolatorUrl) {
      const installed = await installLibrary(p.isolatorUrl, ctx);
      if (installed.changed) changed.push(installed.path);
      p = { ...p, isolatorPath: installed.path };
    }
    if (await root.writeAtomic(p.modulesFile, modulesDocument(p))) changed.push(p.modulesFile);
    const modulesFlag = `file://${p.modulesFile}`;
    if (await root.writeAtomic(MODULES, `${modulesFlag}\n`)) changed.push(MODULES);
    const current = await root.readText(ISOLATION);
    // Already listed anywhere: leave the operator's order alone.
    const listed = (current ?? "")
      .split(",")
      .map((s) => s.trim())
      .includes(DVDI_ISOLATOR);
    const isolation = listed ? current!.trim() : prependIsolator(current);
    if (!listed && (await root.writeAtomic(ISOLATION, `${isolation}\n`))) changed.push(ISOLATION);
    return {
      mode: p.mode,
      changed,
      dvdcliPresent,
      isolatorPresent: await root.exists(p.isolatorPath!),
      agentFlags: [`--modules=${modulesFlag}`, `--isolation=${isolation}`],
      agentRestartRequired: changed.length > 0,
    };
  },
});

/** Fetches the module library (cached) and installs it under /usr/lib, once. */
async function installLibrary(
  raw: string,
  ctx: StepContext,
): Promise<{ path: string; changed: boolean }> {
  let local: string;
  let name: string;
  try {
    const url = parseDownloadUrl(raw);
    name = fileNameOf(url);
    if (!name.endsWith(".so")) throw new DownloadError(`${url.href} is not a .so library`, true);
    ctx.progress(`downloading ${name}`);
    local = await download(url.href, {
      cacheDir: ctx.host.cacheDir,
      signal: ctx.signal,
      ...(ctx.host.ca ? { ca: ctx.host.ca } : {}),
    });
  } catch (err) {
    if (err instanceof DownloadError)
      throw new StepError(`isolator library: ${err.message}`, { permanent: err.permanent });
    throw err;
  }
  const path = `/usr/lib/${name}`;
  const changed = await ctx.host.root.writeAtomic(path, await readFile(local), { mode: 0o755 });
  return { path, changed };
}
