// scaleio.remove-packages: uninstalls ScaleIO components from the node (`rpm -e` /
// `dpkg -P`), in the order given. Idempotent: a component that is not installed is simply
// reported absent, so a retry after a crash carries on where the last run stopped.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { HostCommandError } from "../../../host/process.js";
import { componentSchema, packageName, tail, type Component } from "./common.js";
import { stopAndRemoveUnit } from "./unpacked-install.js";

export const removePackagesParams = z
  .object({ components: z.array(componentSchema).min(1).max(5) })
  .strict()
  .refine((p) => new Set(p.components).size === p.components.length, "each component at most once");

export interface RemovePackagesResult {
  removed: Component[];
  /** Not installed (already removed, or never there). */
  absent: Component[];
}

export const removePackages = defineHandler({
  kind: "scaleio.remove-packages",
  params: removePackagesParams,
  async run(p, ctx): Promise<RemovePackagesResult> {
    const pm = ctx.host.packages;
    const out: RemovePackagesResult = { removed: [], absent: [] };
    for (const c of p.components) {
      ctx.signal.throwIfAborted();
      const name = packageName(c, pm.format);
      let removed: boolean;
      try {
        // Unpacked (CoreOS, Flatcar): no package script stops the service; its unit goes first.
        if (pm.method === "unpack") await stopAndRemoveUnit(c, ctx);
        removed = await pm.remove(name, { signal: ctx.signal });
      } catch (err) {
        if (err instanceof HostCommandError)
          throw new StepError(`removing ${name} failed: ${tail(err.stderr || err.message)}`, {
            cause: err,
          });
        throw err;
      }
      (removed ? out.removed : out.absent).push(c);
      ctx.progress(removed ? `removed ${name}` : `${name} is not installed`);
    }
    return out;
  },
});
