// scaleio.remove-consumer-config: takes away what the REX-Ray and isolator steps wrote on a
// node (uninstall): REX-Ray's service (stopped, disabled, removed) and the rexray/dvdcli
// programs its install recorded, REX-Ray's config.yml, the dvdi module description and the
// agent's `modules` file when it names ours, and the DVDI isolator from the agent's `isolation`
// list (the operator's other isolators stay). Idempotent: what is already gone is reported absent.
// Like the isolator step it never restarts the agent: it says whether a restart is needed.
import { z } from "zod";
import { defineHandler } from "../../../framework/node-task/handler.js";
import { REXRAY_CONFIG } from "./rexray-config.js";
import { uninstallRexray } from "./rexray-uninstall.js";
import { DVDI_ISOLATOR } from "./isolator-config.js";

const MODULES = "/etc/mesos-slave/modules";
const ISOLATION = "/etc/mesos-slave/isolation";

const hostPath = z
  .string()
  .max(500)
  .regex(/^\/[A-Za-z0-9._/+-]*$/, "must be an absolute path of letters, digits and ._/+-")
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

export const removeConsumerConfigParams = z
  .object({
    rexray: z.boolean().default(true),
    /** The module description the isolator step wrote (none: no isolator was configured). */
    modulesFile: hostPath.refine((s) => s.endsWith(".json"), "must be a .json file").optional(),
  })
  .strict();

export interface RemoveConsumerConfigResult {
  removed: string[];
  changed: string[];
  /** What was found but left in place, with why (a program replaced by someone else). */
  kept?: string[];
  agentRestartRequired: boolean;
}

export const removeConsumerConfig = defineHandler({
  kind: "scaleio.remove-consumer-config",
  params: removeConsumerConfigParams,
  async run(p, ctx): Promise<RemoveConsumerConfigResult> {
    const root = ctx.host.root;
    const removed: string[] = [];
    const changed: string[] = [];
    let kept: string[] = [];
    if (p.rexray) {
      // The service first: it stops while its program and configuration are still there.
      const rexray = await uninstallRexray(ctx);
      removed.push(...rexray.removed);
      kept = rexray.kept;
      if (await root.remove(REXRAY_CONFIG)) removed.push(REXRAY_CONFIG);
    }
    if (p.modulesFile) {
      if (await root.remove(p.modulesFile)) removed.push(p.modulesFile);
      // The agent's modules flag file only when it is the one the isolator step wrote.
      const modules = (await root.readText(MODULES))?.trim();
      if (modules === `file://${p.modulesFile}` && (await root.remove(MODULES)))
        removed.push(MODULES);
      const isolation = await root.readText(ISOLATION);
      if (isolation !== undefined) {
        const list = isolation
          .trim()
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const rest = list.filter((s) => s !== DVDI_ISOLATOR);
        if (rest.length !== list.length) {
          if (rest.length === 0) await root.remove(ISOLATION);
          else await root.writeAtomic(ISOLATION, `${rest.join(",")}\n`);
          changed.push(ISOLATION);
        }
      }
    }
    for (const f of [...removed, ...changed]) ctx.progress(`removed ${f}`);
    for (const k of kept) ctx.progress(`kept ${k}`);
    return {
      removed,
      changed,
      ...(kept.length > 0 ? { kept } : {}),
      agentRestartRequired: removed.includes(MODULES) || changed.includes(ISOLATION),
    };
  },
});
