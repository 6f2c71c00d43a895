// scaleio.upgrade-sdc: the SDC package upgraded in place, then its scini driver reloaded so
// the new module runs. Only while no volume is mapped on this SDC (`drv_cfg --query_vols`):
// otherwise nothing is touched and the count is returned, so the scheduler's step waits and
// says why. Never reboots, never unloads a driver that serves volumes.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { ipSchema, tail } from "./common.js";
import { installPackage, installPackageParams } from "./install-package.js";
import { restartService } from "./restart-service.js";

/** `Retrieved N volume(s)` from `drv_cfg --query_vols`. */
export function parseQueryVols(text: string): number | undefined {
  const m = /Retrieved\s+(\d+)\s+volume/i.exec(text);
  return m ? Number(m[1]) : undefined;
}

export const upgradeSdc = defineHandler({
  kind: "scaleio.upgrade-sdc",
  params: z
    .object({
      url: z.string().max(2000),
      version: z.string().regex(/^\d+\.\d+-\d+(\.\d+)?$/),
      mdmIps: z.array(ipSchema).min(1).max(5),
      /** Where a scini driver for this kernel is when the new package has none. */
      driverRepo: installPackageParams.shape.driverRepo,
    })
    .strict(),
  async run(p, ctx) {
    const drvCfg = await ctx.host.drvCfgCommand();
    const q = await ctx.host.run(drvCfg, ["--query_vols"], {
      check: false,
      timeoutMs: 30_000,
      signal: ctx.signal,
    });
    const mapped = q.exitCode === 0 ? parseQueryVols(q.stdout) : undefined;
    if (mapped === undefined)
      throw new StepError(
        `cannot tell whether volumes are mapped here (drv_cfg --query_vols): ${tail(q.stderr || q.stdout)}`,
      );
    if (mapped > 0) return { mappedVolumes: mapped, reloaded: false };
    const installed = (await installPackage.run(
      {
        component: "sdc",
        url: p.url,
        version: p.version,
        mdmIps: p.mdmIps,
        ...(p.driverRepo ? { driverRepo: p.driverRepo } : {}),
      },
      ctx,
    )) as { version: string; changed: boolean };
    ctx.progress("reloading the scini driver");
    await restartService.run({ component: "sdc", mdmIps: p.mdmIps }, ctx);
    return { mappedVolumes: 0, reloaded: true, version: installed.version };
  },
});
