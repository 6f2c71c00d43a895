// scaleio.mdm-replace, run on a surviving manager MDM's node: reference 6.7's sequence,
// add_standby_mdm (the replacement) -> replace_cluster_mdm (the failed member leaves, the
// standby takes its place) -> remove_standby_mdm (the failed one). Idempotent: each action
// follows a look at the cluster (query_cluster) and is skipped once done, so a crash between
// two scli calls is recovered by running the step again. A member that is still master (an
// operator's forced replacement of a healthy node) hands mastership to a live slave first.
// The admin password goes to scli's standard input only, and is redacted from every output.
import { z } from "zod";
import { defineHandler, StepError } from "../../../framework/node-task/handler.js";
import { ipSchema, nameSchema, tail } from "./common.js";
import { parseQueryCluster, scli, type ClusterView, type ScliOutcome } from "./scli.js";

const member = z.object({ ip: ipSchema, name: nameSchema }).strict();

export const mdmReplaceParams = z
  .object({
    failed: member,
    replacement: member,
    /** The kind both are: a manager's place is taken by a manager, a tie-breaker's by one. */
    role: z.enum(["manager", "tiebreaker"]),
  })
  .strict()
  .refine((p) => p.failed.ip !== p.replacement.ip && p.failed.name !== p.replacement.name, {
    message: "the replacement needs its own IP and name",
    path: ["replacement"],
  });

type Params = z.infer<typeof mdmReplaceParams>;

export const mdmReplace = defineHandler({
  kind: "scaleio.mdm-replace",
  params: mdmReplaceParams,
  async run(p: Params, ctx) {
    const password = (await ctx.secrets()).adminPassword.reveal();
    const done: string[] = [];
    const call = (args: string[], input?: string): Promise<ScliOutcome> => {
      ctx.signal.throwIfAborted();
      return scli(args, {
        signal: ctx.signal,
        redact: [password],
        run: ctx.host.run,
        ...(input !== undefined ? { input } : {}),
      });
    };
    const must = async (what: string, args: string[]): Promise<void> => {
      ctx.progress(what);
      const r = await call(args);
      if (!r.ok) throw new StepError(`${what} failed: ${tail(r.stderr || r.stdout)}`);
      done.push(what);
    };
    const query = async (): Promise<ClusterView> => {
      const r = await call(["--query_cluster"]);
      if (!r.ok) throw new StepError(`scli --query_cluster failed: ${tail(r.stderr || r.stdout)}`);
      try {
        return parseQueryCluster(r.stdout);
      } catch (err) {
        throw new StepError((err as Error).message);
      }
    };

    ctx.progress("log in");
    const login = await call(["--login", "--username", "admin"], `${password}\n`);
    if (!login.ok) throw new StepError(`scli --login failed: ${tail(login.stderr)}`);

    const manager = p.role === "manager";
    let view = await query();
    const find = (m: { ip: string; name: string }) =>
      view.members.find((x) => x.ips.includes(m.ip)) ?? view.members.find((x) => x.name === m.name);

    // 1. The replacement as a standby (its MDM package was installed with the right role).
    if (!find(p.replacement)) {
      await must(`add standby ${p.replacement.name} (${p.replacement.ip})`, [
        "--add_standby_mdm",
        "--new_mdm_ip",
        p.replacement.ip,
        "--mdm_role",
        manager ? "manager" : "tb",
        ...(manager ? ["--new_mdm_management_ip", p.replacement.ip] : []),
        "--new_mdm_name",
        p.replacement.name,
      ]);
      view = await query();
    }
    const added = find(p.replacement);
    if (!added)
      throw new StepError(`MDM ${p.replacement.ip} is not in the cluster after adding it`);

    // 2. A failed member that is still master (forced replacement): mastership moves first.
    let old = find(p.failed);
    if (old?.role === "master") {
      const to = view.members.find(
        (m) => m.role === "slave" && (m.status ?? "Normal") === "Normal",
      );
      if (!to) throw new StepError(`no healthy slave MDM to take mastership from ${old.name}`);
      await must(`move mastership from ${old.name} to ${to.name}`, [
        "--switch_mdm_ownership",
        "--new_master_mdm_name",
        to.name,
      ]);
      view = await query();
      old = find(p.failed);
    }

    // 3. The swap: the failed member becomes a standby, the replacement a voting member.
    if (old && old.role !== "standby") {
      const flag = old.role === "tb" ? "tb_name" : "slave_mdm_name";
      await must(`replace ${old.name} with ${added.name} in the cluster`, [
        "--replace_cluster_mdm",
        `--remove_${flag}`,
        old.name,
        `--add_${flag}`,
        added.name,
        "--allow_leave_failed",
        "--i_am_sure",
      ]);
      view = await query();
      old = find(p.failed);
    }

    // 4. The failed member forgotten.
    if (old) {
      await must(`remove standby ${old.name}`, [
        "--remove_standby_mdm",
        "--remove_mdm_name",
        old.name,
      ]);
      view = await query();
    }

    const now = find(p.replacement);
    const want = manager ? ["slave", "master"] : ["tb"];
    if (!now || !want.includes(now.role)) {
      throw new StepError(
        `MDM ${p.replacement.name} is a ${now?.role ?? "stranger"} in the ${view.mode} cluster after the replacement, not a ${manager ? "slave" : "tie-breaker"}`,
      );
    }
    return {
      mode: view.mode,
      state: view.state,
      members: view.members.map((m) => ({ name: m.name, ips: m.ips, role: m.role })),
      actions: done,
      changed: done.length > 0,
    };
  },
});
