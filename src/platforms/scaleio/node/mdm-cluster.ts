// scaleio.mdm-cluster, run on the primary MDM node: the predecessor's sequence
// (reference 3.2) create_mdm_cluster -> login admin/admin -> set_password -> login ->
// add_standby_mdm for each member -> switch_cluster_mode -> rename_system, made idempotent:
// every action is preceded by a look at the cluster (query_cluster, or what a login answers)
// and skipped when done, so a crash between any two scli calls is recovered by running the
// step again. The admin password never is in scli's arguments (every local user can read
// /proc/<pid>/cmdline): scli prompts for what `--password`/`--new_password` would carry, and
// gets it on its standard input. It is redacted from every output.
import { z } from "zod";
import {
  defineHandler,
  StepError,
  type StepContext,
} from "../../../framework/node-task/handler.js";
import { ipSchema, nameSchema, tail } from "./common.js";
import {
  BAD_LOGIN,
  NO_SESSION,
  NOT_CONNECTED,
  parseQueryCluster,
  scli,
  type ClusterView,
  type ScliOutcome,
} from "./scli.js";

const member = z.object({ ip: ipSchema, name: nameSchema }).strict();

export const mdmClusterParams = z
  .object({
    primary: member,
    secondaries: z.array(member).max(2),
    tiebreakers: z.array(member).max(2),
    systemName: nameSchema,
  })
  .strict()
  .superRefine((p, issue) => {
    if (p.secondaries.length !== p.tiebreakers.length) {
      issue.addIssue({
        code: "custom",
        path: ["tiebreakers"],
        message: "a 3_node cluster has 1 secondary and 1 tie-breaker, a 5_node cluster 2 and 2",
      });
    }
    const all = [p.primary, ...p.secondaries, ...p.tiebreakers];
    if (new Set(all.map((m) => m.ip)).size !== all.length)
      issue.addIssue({ code: "custom", path: ["primary"], message: "MDM IPs must be distinct" });
    if (new Set(all.map((m) => m.name)).size !== all.length)
      issue.addIssue({ code: "custom", path: ["primary"], message: "MDM names must be distinct" });
  });

type Params = z.infer<typeof mdmClusterParams>;

const MODES = ["1_node", "3_node", "5_node"] as const;

export const mdmCluster = defineHandler({
  kind: "scaleio.mdm-cluster",
  params: mdmClusterParams,
  async run(p: Params, ctx) {
    const password = (await ctx.secrets()).adminPassword.reveal();
    const redact = [password];
    const done: string[] = [];
    const call = async (args: string[], input?: string): Promise<ScliOutcome> => {
      ctx.signal.throwIfAborted();
      return scli(args, {
        signal: ctx.signal,
        redact,
        run: ctx.host.run,
        ...(input !== undefined ? { input } : {}),
      });
    };
    const must = async (what: string, args: string[], input?: string): Promise<string> => {
      ctx.progress(what);
      const r = await call(args, input);
      if (!r.ok) throw new StepError(`${what} failed: ${tail(r.stderr || r.stdout)}`);
      done.push(what);
      return r.stdout;
    };

    // 1. The cluster exists once the primary answers anything but "cannot connect".
    const first = await call(["--query_cluster"]);
    if (!first.ok && NOT_CONNECTED.test(first.stderr)) {
      await must("create the MDM cluster", [
        "--create_mdm_cluster",
        "--master_mdm_ip",
        p.primary.ip,
        "--master_mdm_management_ip",
        p.primary.ip,
        "--master_mdm_name",
        p.primary.name,
        "--accept_license",
        "--approve_certificate",
      ]);
    } else if (!first.ok && !NO_SESSION.test(first.stderr)) {
      throw new StepError(`scli --query_cluster failed: ${tail(first.stderr || first.stdout)}`);
    }

    // 2. Log in with the configured password; if only the default works, set it first.
    await login(ctx, call, must, password);

    // 3. Members: add what is missing as standbys, then switch the mode.
    let view = await query(call);
    for (const [m, manager] of [
      ...p.secondaries.map((m) => [m, true] as const),
      ...p.tiebreakers.map((m) => [m, false] as const),
    ]) {
      if (view.members.some((x) => x.ips.includes(m.ip))) continue;
      await must(`add standby ${manager ? "manager" : "tie-breaker"} ${m.name} (${m.ip})`, [
        "--add_standby_mdm",
        "--new_mdm_ip",
        m.ip,
        "--mdm_role",
        manager ? "manager" : "tb",
        ...(manager ? ["--new_mdm_management_ip", m.ip] : []),
        "--new_mdm_name",
        m.name,
      ]);
    }
    if (done.some((d) => d.startsWith("add standby"))) view = await query(call);
    const target = MODES[p.secondaries.length]!;
    const find = (ip: string) => {
      const m = view.members.find((x) => x.ips.includes(ip));
      if (!m) throw new StepError(`MDM ${ip} is not in the cluster after adding it`);
      return m;
    };
    if (view.mode !== target) {
      if (MODES.indexOf(view.mode as (typeof MODES)[number]) > MODES.indexOf(target)) {
        throw new StepError(
          `the cluster is in ${view.mode}; this step never shrinks it to ${target}`,
          {
            permanent: true,
          },
        );
      }
      const slaves = p.secondaries.map((m) => find(m.ip)).filter((x) => x.role === "standby");
      const tbs = p.tiebreakers.map((m) => find(m.ip)).filter((x) => x.role === "standby");
      await must(`switch the cluster to ${target}`, [
        "--switch_cluster_mode",
        "--cluster_mode",
        target,
        ...(slaves.length ? ["--add_slave_mdm_name", slaves.map((x) => x.name).join(",")] : []),
        ...(tbs.length ? ["--add_tb_name", tbs.map((x) => x.name).join(",")] : []),
      ]);
      view = await query(call);
    }
    for (const [m, role] of [
      ...p.secondaries.map((m) => [m, "slave"] as const),
      ...p.tiebreakers.map((m) => [m, "tb"] as const),
    ]) {
      const got = find(m.ip);
      if (got.role !== role && !(role === "slave" && got.role === "master")) {
        throw new StepError(
          `MDM ${got.name} (${m.ip}) is a ${got.role} in the ${view.mode} cluster, not a ${role}: replace it first`,
          { permanent: true },
        );
      }
    }

    // 4. The name: rename_system is idempotent by nature, so it always runs.
    await must(`name the system ${p.systemName}`, ["--rename_system", "--new_name", p.systemName]);
    done.pop(); // renaming to the same name is not a change worth reporting

    return {
      mode: view.mode,
      state: view.state,
      members: view.members.map((m) => ({ name: m.name, ips: m.ips, role: m.role })),
      actions: done,
      changed: done.length > 0,
    };
  },
});

async function query(call: (a: string[]) => Promise<ScliOutcome>): Promise<ClusterView> {
  const r = await call(["--query_cluster"]);
  if (!r.ok) throw new StepError(`scli --query_cluster failed: ${tail(r.stderr || r.stdout)}`);
  try {
    return parseQueryCluster(r.stdout);
  } catch (err) {
    throw new StepError((err as Error).message);
  }
}

/** `scli --login` without `--password`: scli prompts, and reads the answer from stdin. */
const LOGIN = ["--login", "--username", "admin"];
/** The initial password is public (reference 3.2); only the new one is prompted for. */
const SET_PASSWORD = ["--set_password", "--old_password", "admin"];

async function login(
  ctx: StepContext,
  call: (a: string[], input?: string) => Promise<ScliOutcome>,
  must: (what: string, a: string[], input?: string) => Promise<string>,
  password: string,
): Promise<void> {
  ctx.progress("log in");
  const r = await call(LOGIN, `${password}\n`);
  if (r.ok) return;
  if (!BAD_LOGIN.test(r.stderr)) throw new StepError(`scli --login failed: ${tail(r.stderr)}`);
  const initial = await call(LOGIN, "admin\n");
  if (!initial.ok) {
    throw new StepError(
      "neither the configured admin password nor the initial one is accepted by the MDM",
      { permanent: true },
    );
  }
  // The new password, then its confirmation (a scli that asks once ignores the second line).
  await must("set the admin password", SET_PASSWORD, `${password}\n${password}\n`);
  await must("log in with the new password", LOGIN, `${password}\n`);
}
