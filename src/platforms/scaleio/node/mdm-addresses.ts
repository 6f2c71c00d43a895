// After an MDM was replaced, the components that name the managers by address follow (reference
// 6.7 step 5): scaleio.sdc-mdms points the SDC driver at the new set (drv_cfg --mod_mdm_ip
// online, persisted in drv_cfg.txt), scaleio.gateway-mdms rewrites the gateway's
// mdm.ip.addresses and restarts it. Both compare first and change nothing when it is right.
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { ipSchema, tail } from "./common.js";
import { parseQueryMdms } from "./configure-sdc.js";
import { UNPACKED_DRV_CFG_TXT } from "./unpacked-install.js";

const DRV_CFG_TXT = "/bin/emc/scaleio/drv_cfg.txt";
export const GATEWAY_PROPERTIES =
  "/opt/emc/scaleio/gateway/webapps/ROOT/WEB-INF/classes/gatewayUser.properties";

const mdmIpsParams = z.object({ mdmIps: z.array(ipSchema).min(1).max(5) }).strict();

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");

/**
 * Points the SDC driver at `mdmIps` when it knows another set; undefined when the driver does
 * not answer (scini not loaded), with its words.
 */
export async function pointSdcAt(
  mdmIps: string[],
  ctx: StepContext,
): Promise<
  { ok: true; mdmIps: string[]; previous: string[]; changed: boolean } | { ok: false; why: string }
> {
  const drvCfg = await ctx.host.drvCfgCommand();
  const opts = { check: false, timeoutMs: 30_000, signal: ctx.signal };
  const q = await ctx.host.run(drvCfg, ["--query_mdms"], opts);
  if (q.exitCode !== 0) return { ok: false, why: tail(q.stderr || q.stdout) };
  const known = parseQueryMdms(q.stdout);
  if (sameSet(known, mdmIps)) return { ok: true, mdmIps: known, previous: known, changed: false };
  ctx.progress(`pointing the SDC at ${mdmIps.join(",")} (was ${known.join(",") || "none"})`);
  // --mod_mdm_ip names the cluster by an address the driver knows; without one, add it.
  const args =
    known.length > 0
      ? ["--mod_mdm_ip", "--ip", known[0]!, "--new_mdm_ip", mdmIps.join(",")]
      : ["--add_mdm", "--ip", mdmIps.join(",")];
  // Where /bin is read-only (CoreOS, Flatcar) the SDC's configuration lives under /opt.
  const file = ctx.host.packages.method === "unpack" ? UNPACKED_DRV_CFG_TXT : DRV_CFG_TXT;
  const r = await ctx.host.run(drvCfg, [...args, "--file", file], opts);
  if (r.exitCode !== 0)
    throw new StepError(`drv_cfg ${args[0]} failed: ${tail(r.stderr || r.stdout)}`);
  return { ok: true, mdmIps, previous: known, changed: true };
}

export const sdcMdms = defineHandler({
  kind: "scaleio.sdc-mdms",
  params: mdmIpsParams,
  async run(p, ctx) {
    const r = await pointSdcAt(p.mdmIps, ctx);
    if (!r.ok) throw new StepError(`the SDC driver does not answer: ${r.why}`);
    const { ok: _ok, ...rest } = r;
    return rest;
  },
});

/** The properties text with `mdm.ip.addresses` set (added when missing). */
export function withMdmAddresses(text: string, ips: string[]): string {
  const line = `mdm.ip.addresses=${ips.join(",")}`;
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /^\s*mdm\.ip\.addresses\s*=/.test(l));
  if (i >= 0) lines[i] = line;
  else lines.splice(text.endsWith("\n") ? lines.length - 1 : lines.length, 0, line);
  return lines.join("\n");
}

export const gatewayMdms = defineHandler({
  kind: "scaleio.gateway-mdms",
  params: mdmIpsParams,
  async run(p, ctx) {
    const text = await ctx.host.root.readText(GATEWAY_PROPERTIES);
    if (text === undefined)
      throw new StepError(`no gateway configuration here (${GATEWAY_PROPERTIES})`);
    const next = withMdmAddresses(text, p.mdmIps);
    if (next === text) return { mdmIps: p.mdmIps, changed: false };
    ctx.progress(`setting the gateway's MDM addresses to ${p.mdmIps.join(",")}`);
    await ctx.host.root.writeAtomic(GATEWAY_PROPERTIES, next, { mode: 0o600 });
    // The gateway reads its properties at start (reference 2.6).
    const r = await ctx.host.run("service", ["scaleio-gateway", "restart"], {
      check: false,
      timeoutMs: 120_000,
      signal: ctx.signal,
    });
    if (r.exitCode !== 0)
      throw new StepError(`service scaleio-gateway restart failed: ${tail(r.stderr || r.stdout)}`);
    return { mdmIps: p.mdmIps, changed: true };
  },
});
