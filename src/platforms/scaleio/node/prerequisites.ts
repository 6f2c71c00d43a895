// scaleio.install-prerequisites: the OS packages ScaleIO needs (reference 2.2), installed
// with apt-get or yum; success is judged by the output patterns the predecessor used
// (reference 2.3). Installing what is already there is a no-op for both tools.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { HostCommandError } from "../../../host/process.js";
import { checkPackageName } from "../../../host/packages.js";
import { tail } from "./common.js";

const DEFAULTS = { deb: ["libaio1", "zip"], rpm: ["libaio", "zip", "unzip"] } as const;
const SUCCESS = { deb: /[0-9]+ upgraded|[0-9]+ newly/, rpm: /Nothing to do|Installed:|Complete!/ };

const osPackage = z.string().refine((s) => {
  try {
    checkPackageName(s);
    return true;
  } catch {
    return false;
  }
}, "must be a plain package name");

export const installPrerequisites = defineHandler({
  kind: "scaleio.install-prerequisites",
  params: z
    .object({
      /** Extra OS packages (e.g. a Java runtime on the gateway node). */
      extra: z.array(osPackage).max(20).default([]),
    })
    .strict()
    .default({ extra: [] }),
  async run(params, ctx) {
    const format = ctx.host.packages.format;
    // No package manager (CoreOS, Flatcar): nothing to install; payloads are unpacked.
    if (ctx.host.packages.method === "unpack") {
      ctx.progress(`${ctx.host.os.prettyName} has no package manager: no prerequisites to install`);
      return { packageFormat: format, packages: [] };
    }
    const names = [...new Set([...DEFAULTS[format], ...params.extra])];
    ctx.progress(`installing ${names.join(" ")}`);
    let out: string;
    try {
      out = (await ctx.host.packages.installOsPackages(names, { signal: ctx.signal })).stdout;
    } catch (err) {
      if (err instanceof HostCommandError) throw new StepError(err.message, { cause: err });
      throw err;
    }
    if (!SUCCESS[format].test(out)) {
      throw new StepError(`installing ${names.join(" ")} gave no success line: ${tail(out)}`);
    }
    return { packageFormat: format, packages: names };
  },
});
