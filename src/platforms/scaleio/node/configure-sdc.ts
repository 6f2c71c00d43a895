// scaleio.configure-sdc: makes the SDC driver know the manager MDMs (drv_cfg --query_mdms,
// then --add_mdm for the missing ones, persisted in drv_cfg.txt) and returns its GUID, which
// the scheduler matches against the gateway's `sdcGuid`.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { ipSchema, tail } from "./common.js";
import { querySdcGuid } from "./host-facts.js";

const DRV_CFG_TXT = "/bin/emc/scaleio/drv_cfg.txt";

/** IPs in `drv_cfg --query_mdms` output (2.x `[0]-ip` lists and plain lists). */
export function parseQueryMdms(text: string): string[] {
  const ips = new Set<string>();
  for (const line of text.split("\n")) {
    if (!/IPs?\b/i.test(line)) continue;
    for (const m of line.matchAll(/(?:\[\d+\]-)?(\d{1,3}(?:\.\d{1,3}){3})/g)) ips.add(m[1]!);
  }
  return [...ips];
}

export const configureSdc = defineHandler({
  kind: "scaleio.configure-sdc",
  params: z.object({ mdmIps: z.array(ipSchema).min(1).max(5) }).strict(),
  async run(p, ctx) {
    const drvCfg = await ctx.host.drvCfgCommand();
    const opts = { check: false, timeoutMs: 30_000, signal: ctx.signal };
    const q = await ctx.host.run(drvCfg, ["--query_mdms"], opts);
    if (q.exitCode !== 0) {
      throw new StepError(
        `the SDC driver does not answer (is the SDC package installed and scini loaded?): ${tail(q.stderr || q.stdout)}`,
      );
    }
    const known = parseQueryMdms(q.stdout);
    const missing = p.mdmIps.filter((ip) => !known.includes(ip));
    if (missing.length > 0) {
      ctx.progress(`adding MDMs ${missing.join(",")} to the SDC`);
      const r = await ctx.host.run(
        drvCfg,
        ["--add_mdm", "--ip", missing.join(","), "--file", DRV_CFG_TXT],
        opts,
      );
      if (r.exitCode !== 0)
        throw new StepError(`drv_cfg --add_mdm failed: ${tail(r.stderr || r.stdout)}`);
    }
    const sdcGuid = await querySdcGuid(ctx.host, ctx.signal);
    if (!sdcGuid) throw new StepError("drv_cfg --query_guid gave no GUID");
    return { sdcGuid, mdmIps: [...new Set([...known, ...missing])], changed: missing.length > 0 };
  },
});
