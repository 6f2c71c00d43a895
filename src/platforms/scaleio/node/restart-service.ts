// scaleio.restart-service: brings a ScaleIO process that stopped back through the service its
// package registered (a repair: the MDM, SDS or LIA as systemd unit or upstart job, the SDC's
// scini init script), and for an SDC re-applies its MDM addresses once scini is back. Tries systemd,
// then `service`, then the init script; never reboots, never touches other services.
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { ipSchema, tail } from "./common.js";
import { configureSdc } from "./configure-sdc.js";

/** The service each component's package registers (reference 2.3; emulator: "Services"). */
export const SERVICE_OF = { mdm: "mdm", sds: "sds", lia: "lia", sdc: "scini" } as const;

export const restartServiceParams = z
  .object({
    component: z.enum(["mdm", "sds", "lia", "sdc"]),
    /** For an SDC: the manager MDMs it must know before it restarts. */
    mdmIps: z.array(ipSchema).min(1).max(5).optional(),
  })
  .strict();

type Attempt = { program: string; args: string[] };

async function restart(name: string, ctx: StepContext): Promise<string> {
  const attempts: Attempt[] = [
    { program: "systemctl", args: ["restart", `${name}`] },
    { program: "service", args: [name, "restart"] },
    { program: ctx.host.root.resolve(`/etc/init.d/${name}`), args: ["restart"] },
  ];
  const failures: string[] = [];
  for (const a of attempts) {
    let r;
    try {
      r = await ctx.host.run(a.program, a.args, {
        check: false,
        timeoutMs: 120_000,
        signal: ctx.signal,
      });
    } catch (err) {
      // Not there at all (ENOENT) or refused by the host profile: the next way may work.
      failures.push(`${a.program}: ${(err as Error).message}`);
      continue;
    }
    if (r.exitCode === 0) return `${a.program} ${a.args.join(" ")}`;
    failures.push(
      `${a.program} ${a.args.join(" ")}: exit ${r.exitCode} ${tail(r.stderr || r.stdout)}`,
    );
    // 127: no such program; 5 / 6: systemd has no such unit. Anything else is a real failure.
    if (![127, 5, 6, 1].includes(r.exitCode ?? -1)) break;
  }
  throw new StepError(`could not restart ${name}: ${failures.join("; ")}`);
}

export const restartService = defineHandler({
  kind: "scaleio.restart-service",
  params: restartServiceParams,
  async run(p, ctx) {
    const name = SERVICE_OF[p.component];
    if (p.component === "sdc" && !p.mdmIps)
      throw new StepError("restarting an SDC needs its MDM addresses", { permanent: true });
    ctx.progress(`restarting ${name}`);
    const how = await restart(name, ctx);
    // The driver answers drv_cfg only once scini is loaded again: addresses come after.
    if (p.component === "sdc") await configureSdc.run({ mdmIps: p.mdmIps! }, ctx);
    return { component: p.component, service: name, how };
  },
});
