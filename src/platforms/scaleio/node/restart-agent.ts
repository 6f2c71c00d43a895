// scaleio.restart-agent: restarts the Mesos agent service so that it loads a changed
// isolator configuration. Only run after the scheduler drained the agent, and only when
// the operator opted in. It restarts a service; it never reboots the machine.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { tail } from "./common.js";

export const restartAgentParams = z
  .object({
    /** The agent's service unit (Mesosphere packages: mesos-slave; newer: mesos-agent). */
    service: z
      .string()
      .regex(/^[A-Za-z0-9@._-]{1,64}$/, "must be a service name")
      .default("mesos-slave"),
  })
  .strict();

export const restartAgent = defineHandler({
  kind: "scaleio.restart-agent",
  params: restartAgentParams,
  async run(p, ctx) {
    ctx.progress(`restarting ${p.service}`);
    // Detached from this executor: the agent restart may take the executor's connection down.
    // Through the host profile: an emulated node refuses it instead of touching the machine.
    const r = await ctx.host.run("systemctl", ["--no-block", "restart", p.service], {
      check: false,
      timeoutMs: 60_000,
      signal: ctx.signal,
    });
    if (r.exitCode !== 0)
      throw new StepError(`systemctl restart ${p.service} failed: ${tail(r.stderr || r.stdout)}`);
    return { service: p.service, restarted: true };
  },
});
