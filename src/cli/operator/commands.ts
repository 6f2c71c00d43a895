// Operator verbs of the `scaleio-framework` command line, against a running scheduler:
// status, health, nodes, plan list|show|pause|resume|restart|force-complete, events [--follow].
// Text on a terminal, `--json` for scripts; exit codes in EXIT (client.ts).
import { Command, Option } from "commander";
import type { NodeView, Summary } from "../../framework/operator-view.js";
import type { OperatorEvent } from "../../framework/events.js";
import type { PlanView } from "../../framework/plan/types.js";
import { ApiClient, CliError, EXIT, type ConnectionOptions } from "./client.js";
import {
  formatEvent,
  formatHealth,
  formatNodes,
  formatPlan,
  formatPlans,
  formatSummary,
} from "./format.js";
import type { HealthReport } from "../../framework/health/types.js";
import { followEvents } from "./sse.js";

interface Common extends ConnectionOptions {
  json?: boolean;
}

const enc = encodeURIComponent;

/** The given filters as a query string (the API says what is wrong with them). */
function listQuery(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${enc(v!)}`)
    .join("&");
}

function withConnection(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--api <url>", "the scheduler's API (or SCALEIO_FRAMEWORK_API)").default(
        undefined,
        "http://127.0.0.1:35000",
      ),
    )
    .option("--token-file <file>", "file holding the API token (or SCALEIO_FRAMEWORK_API_TOKEN)")
    .option("--json", "print JSON (for scripts)");
}

/** Runs a verb: prints what it returns, maps failures to exit codes. */
function run<A extends unknown[]>(
  fn: (
    client: ApiClient,
    o: Common,
    ...args: A
  ) => Promise<{ text: string; json: unknown; code?: number }>,
) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const o = cmd.opts<Common>();
    try {
      const client = new ApiClient(o);
      const r = await fn(client, o, ...(args.slice(0, -2) as A));
      process.stdout.write(`${o.json ? JSON.stringify(r.json, null, 2) : r.text}\n`);
      process.exitCode = r.code ?? EXIT.ok;
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

export function registerOperatorCommands(program: Command): void {
  withConnection(
    program
      .command("status")
      .description("the cluster's health, capacity and plans (exit 3 when not healthy)"),
  ).action(
    run(async (c) => {
      const s = await c.get<Summary>("/v1/summary");
      return {
        text: formatSummary(s),
        json: s,
        code: s.health === "healthy" ? EXIT.ok : EXIT.notHealthy,
      };
    }),
  );

  withConnection(
    program
      .command("health")
      .description("the cluster's health conditions, critical first (exit 3 unless healthy)"),
  ).action(
    run(async (c) => {
      const h = await c.get<HealthReport>("/v1/health");
      return {
        text: formatHealth(h),
        json: h,
        code: h.status === "healthy" ? EXIT.ok : EXIT.notHealthy,
      };
    }),
  );

  withConnection(
    program
      .command("nodes")
      .description("every agent: roles, devices, step progress, errors (in natural order)")
      .option("--status <status>", "only error, lost, in-progress or ok (comma-separated)")
      .option(
        "--host <pattern>",
        "only hostnames, addresses or ids with this text (or * ? pattern)",
      )
      .option("--sort <by>", "hostname, or status (failed first)", "hostname"),
  ).action(
    run(async (c, o) => {
      const f = o as Common & { status?: string; host?: string; sort: string };
      const r = await c.get<{ nodes: NodeView[] }>(
        `/v1/nodes?${listQuery({ status: f.status, q: f.host, sort: f.sort })}`,
      );
      const filtered = f.status !== undefined || f.host !== undefined;
      const none = filtered && r.nodes.length === 0;
      return { text: none ? "no agents match" : formatNodes(r.nodes), json: r };
    }),
  );

  const plan = program.command("plan").description("show and steer plans");
  withConnection(plan.command("list").description("all plans")).action(
    run(async (c) => {
      const r = await c.get<{ plans: PlanView[] }>("/v1/plans");
      return { text: formatPlans(r.plans), json: r };
    }),
  );
  withConnection(
    plan
      .command("show <planId>")
      .description("a plan's phases and steps")
      .option(
        "--status <status>",
        "only steps PENDING, IN_PROGRESS, COMPLETE or ERROR (comma-separated)",
      )
      .option(
        "--host <pattern>",
        "only the steps of agents with this hostname text (or * ? pattern), address or id",
      ),
  ).action(
    run(async (c, o, id: string) => {
      const f = o as Common & { status?: string; host?: string };
      const qs = listQuery({ status: f.status, agent: f.host });
      const p = await c.get<PlanView>(`/v1/plans/${enc(id)}${qs ? `?${qs}` : ""}`);
      return { text: formatPlan(p, qs !== ""), json: p };
    }),
  );
  for (const verb of ["pause", "resume"] as const) {
    withConnection(
      plan
        .command(`${verb} <planId>`)
        .description(`${verb} a plan, or one phase of it`)
        .option("--phase <phaseId>", `${verb} only this phase`),
    ).action(
      run(async (c, o, id: string) => {
        const phase = (o as Common & { phase?: string }).phase;
        const p = await c.post<PlanView>(`/v1/plans/${enc(id)}/${verb}`, phase ? { phase } : {});
        return { text: formatPlans([p]), json: p };
      }),
    );
  }
  for (const [verb, what] of [
    ["restart", "run a step again from scratch"],
    ["force-complete", "mark a step complete without running it"],
  ] as const) {
    withConnection(plan.command(`${verb} <planId> <stepId>`).description(what)).action(
      run(async (c, _o, id: string, step: string) => {
        const p = await c.post<PlanView>(`/v1/plans/${enc(id)}/${verb}`, { step });
        return { text: formatPlans([p]), json: p };
      }),
    );
  }

  withConnection(
    program
      .command("upgrade")
      .description(
        "upgrade the cluster's software to a version, in the documented order (the `upgrade` plan)",
      )
      .requiredOption("--to <version>", "the package version, e.g. 2.0-13000.211")
      .option(
        "--canary <n>",
        "pause after the first N storage servers until `plan resume upgrade`",
      ),
  ).action(
    run(async (c, o) => {
      const f = o as Common & { to: string; canary?: string };
      const canary = f.canary === undefined ? undefined : Number(f.canary);
      if (canary !== undefined && !(Number.isInteger(canary) && canary >= 0))
        throw new CliError(EXIT.usage, "--canary takes a whole number of storage servers");
      const r = await c.post<{ planId: string; version: string }>("/v1/plans/upgrade", {
        version: f.to,
        ...(canary ? { canary } : {}),
      });
      return {
        text:
          `upgrade to ${r.version} planned: follow it with \`plan show ${r.planId}\`` +
          (canary
            ? `; it pauses after ${canary} storage server(s): \`plan resume ${r.planId}\``
            : ""),
        json: r,
      };
    }),
  );

  // `node` verbs come from several parts (maintenance, decommission…): one group, shared.
  const node =
    program.commands.find((x) => x.name() === "node") ??
    program.command("node").description("act on one node (agent)");
  withConnection(
    node
      .command("maintenance <agentId>")
      .description(
        "put a node into maintenance (its SDS into instant maintenance mode) or take it out",
      )
      .option("--enter", "into maintenance")
      .option("--exit", "out of maintenance (then resync)"),
  ).action(
    run(async (c, o, agentId: string) => {
      const f = o as Common & { enter?: boolean; exit?: boolean };
      if (!!f.enter === !!f.exit) throw new CliError(EXIT.usage, "give one of --enter or --exit");
      const r = await c.post<{ state: string; message: string }>(
        `/v1/nodes/${enc(agentId)}/maintenance`,
        { enter: !!f.enter },
      );
      return { text: r.message, json: r };
    }),
  );

  withConnection(
    node
      .command("decommission <agentId>")
      .description(
        "take a data node out for good: its SDS removed gracefully (the data migrates), its components uninstalled, its reservations released; refused with the figures when the rest of its pool could not hold its data, or for an MDM member",
      )
      .option("--remove-sdc", "remove its SDC too (only when no volume is mapped to it)"),
  ).action(
    run(async (c, o, agentId: string) => {
      const f = o as Common & { removeSdc?: boolean };
      const r = await c.post<{ planId: string; message: string }>(
        `/v1/nodes/${enc(agentId)}/decommission`,
        f.removeSdc ? { removeSdc: true } : {},
      );
      return { text: `${r.message}: follow it with \`plan show ${r.planId}\``, json: r };
    }),
  );

  withConnection(
    node
      .command("recommission <agentId>")
      .description("let a decommissioned node be on-boarded again (by the deploy plan)"),
  ).action(
    run(async (c, _o, agentId: string) => {
      const r = await c.post<{ message: string }>(`/v1/nodes/${enc(agentId)}/recommission`, {});
      return { text: r.message, json: r };
    }),
  );

  withConnection(
    node
      .command("replace <agentId>")
      .description(
        "replace a lost or failing node: its MDM member on a new agent, its SDS removed once rebuilt elsewhere",
      )
      .option("--force", "replace a node that is neither lost nor failing"),
  ).action(
    run(async (c, o, agentId: string) => {
      const f = o as Common & { force?: boolean };
      const r = await c.post<{ plan: string; message: string; replacement?: string }>(
        `/v1/nodes/${enc(agentId)}/replace`,
        f.force ? { force: true } : {},
      );
      return { text: `${r.message} (plan ${r.plan})`, json: r };
    }),
  );

  withConnection(
    program
      .command("uninstall")
      .description(
        "remove the framework and what it deployed (the `teardown` plan), then leave Mesos and delete its state",
      )
      .requiredOption("--confirm <name>", "the framework's name, as confirmation")
      .option("--destroy-data", "also remove the volumes (their data is lost)"),
  ).action(
    run(async (c, o) => {
      const f = o as Common & { confirm: string; destroyData?: boolean };
      const r = await c.post<{ planId: string; destroyData: boolean }>("/v1/uninstall", {
        confirm: f.confirm,
        ...(f.destroyData ? { destroyData: true } : {}),
      });
      return {
        text: `uninstall started${r.destroyData ? " (volumes are destroyed)" : ""}: follow it with \`plan show ${r.planId}\`; the scheduler exits once it is done`,
        json: r,
      };
    }),
  );

  withConnection(
    program
      .command("events")
      .description("recent events; with --follow, stream them as they happen")
      .option("-f, --follow", "keep streaming (reconnects, resuming after the last event)")
      .option("--history <n>", "with --follow: replay this many recent events first", "20"),
  ).action(async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const o = cmd.opts<Common & { follow?: boolean; history: string }>();
    try {
      const client = new ApiClient(o);
      const print = (e: OperatorEvent) =>
        process.stdout.write(`${o.json ? JSON.stringify(e) : formatEvent(e)}\n`);
      if (!o.follow) {
        const r = await client.get<{ events: OperatorEvent[] }>("/v1/events/recent");
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else for (const e of r.events) print(e);
        return;
      }
      if (!/^\d+$/.test(o.history)) throw new CliError(EXIT.usage, "--history: not a number");
      await followEvents(client, Number(o.history), print);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  });
}
