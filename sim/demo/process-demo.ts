// `demo --schedulers N --state zk://...`: the development world (Mesos, the ScaleIO emulator)
// and N real scheduler processes on the user's ZooKeeper; one leads and deploys, the others
// stand by. The demo follows the deploy through the leader's API (whoever leads: kill the
// leader and a standby carries on), then prints the same summary as the one-process demo.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayClient } from "../../src/platforms/scaleio/gateway/client.js";
import { clusterSummary } from "../../src/platforms/scaleio/cluster/summary.js";
import { Secret } from "../../src/common/secret.js";
import type { PlanView } from "../../src/framework/plan/types.js";
import type { HealthReport } from "../../src/framework/health/types.js";
import { describeLocation, openStateStore, stateLocation } from "../../src/store/open-store.js";
import { ZkStateStore } from "../../src/store/zk-store.js";
import { demoPassword, mdmWords, startDemoWorld, stopOnSignals, type DemoWorld } from "./demo.js";
import type { DemoArgs } from "./options.js";
import { schedulerLogFile, startSchedulerGroup, type SchedulerGroup } from "./scheduler-group.js";

export interface ProcessDemo {
  world: DemoWorld;
  group: SchedulerGroup;
  stop(): Promise<void>;
}

type Out = (line: string) => void;

/** Every demo on a given state starts afresh: keys already there (a run before) are refused. */
export async function usedStateKeys(url: string): Promise<string[]> {
  const loc = stateLocation({ dir: ".", url });
  const store =
    loc.kind === "zk"
      ? await ZkStateStore.open(loc.url, { connectTimeoutMs: 10_000, onWarning: () => {} })
      : await openStateStore(loc);
  try {
    return await store.list("");
  } finally {
    await store.close();
  }
}

export async function startProcessDemo(
  args: DemoArgs & { state: string },
  out: Out,
  notice: Out,
): Promise<ProcessDemo> {
  const world = await startDemoWorld({
    agents: args.agents,
    ...(args.os ? { os: args.os } : {}),
    sharedProcesses: args.sharedProcesses,
    // The failover walk-through kills an agent: let the master notice within seconds.
    ...(args.failover ? { agentPingTimeoutMs: 1000 } : {}),
  });
  let group: SchedulerGroup | undefined;
  try {
    // Secrets in files only the demo's user reads: never on a command line or in the
    // environment (agents and executors inherit it).
    const secretFile = (name: string, value: string) => {
      const path = join(world.dir, name);
      writeFileSync(path, value, { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    };
    const { env, flags } = world.schedulerConfig;
    const apiToken = env.SCALEIO_FRAMEWORK_API_TOKEN!;
    group = await startSchedulerGroup({
      count: args.schedulers,
      flags: {
        ...flags,
        "state-dir": undefined,
        state: args.state,
        "admin-password-file": secretFile("admin-password", env.SCALEIO_ADMIN_PASSWORD!),
        "api-token-file": secretFile("api-token", apiToken),
        // Short retry pauses, as the one-process demo: a step failing once on a busy
        // machine should not wait a minute.
        "step-retry-initial-ms": "200",
        "step-retry-max-ms": "2000",
      },
      logFile: (i) => schedulerLogFile(args.logFile, i, args.schedulers),
      apiToken,
      notice,
    });
    const leader = await group.leader(60_000);
    for (const s of group.schedulers)
      out(`api: ${s.apiUrl} (${s.apiUrl === leader ? "leader" : "standby"})`);
    out(`gateway: ${world.emulator.gatewayUrl}`);
    out(`control: ${world.emulator.controlUrl}`);
    out(`state: ${describeLocation(stateLocation({ dir: ".", url: args.state }))}`);
    for (const s of group.schedulers) out(`log: ${s.logFile}`);
  } catch (err) {
    await group?.stop();
    await world.stop();
    throw err;
  }
  const g = group;
  return {
    world,
    group: g,
    stop: async () => {
      await g.stop();
      await world.stop();
    },
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows the deploy plan on whoever leads until it is complete with every agent and the
 * verification; prints each finished or failed step once, and a change of leader.
 */
export async function untilDeployed(
  demo: ProcessDemo,
  agents: number,
  deadlineMs: number,
  out: Out,
): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  const said = new Map<string, string>();
  let leader: string | undefined;
  let last: PlanView | undefined;
  while (Date.now() < deadline) {
    const now = await demo.group.leader(Math.max(1000, deadline - Date.now()));
    if (leader && now !== leader) out(`leader: ${now} (was ${leader})`);
    leader = now;
    const plan = await demo.group.getJson<PlanView>(`${leader}/v1/plans/deploy`);
    if (plan?.phases) {
      last = plan;
      for (const ph of plan.phases)
        for (const st of ph.steps) {
          if (st.status !== "COMPLETE" && st.status !== "ERROR") continue;
          const line = `  [${ph.id}] ${st.name}: ${st.status}${st.lastError ? ` (${st.lastError})` : ""}`;
          if (said.get(st.id) === line) continue;
          said.set(st.id, line);
          out(line);
        }
      const verified = plan.phases.some((p) =>
        p.steps.some((s) => s.id === "verify/cluster" && s.status === "COMPLETE"),
      );
      if (plan.status === "COMPLETE" && verified && plan.phases[0]!.steps.length === agents)
        return leader;
    }
    await pause(500);
  }
  const open = (last?.phases ?? [])
    .flatMap((p) => p.steps)
    .filter((st) => st.status !== "COMPLETE")
    .slice(0, 8)
    .map((st) => `${st.id} ${st.status}${st.lastError ? `: ${st.lastError}` : ""}`);
  throw new Error(
    `deploy not complete within ${deadlineMs / 1000} s${last ? `; not done: ${open.join("; ")}` : "; no deploy plan"}`,
  );
}

/** Deployed is not yet healthy: waits until the leader's /v1/health reports no condition. */
export async function untilHealthyViaApi(demo: ProcessDemo, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let r: HealthReport | undefined;
  for (;;) {
    const leader = await demo.group.leader(Math.max(1000, deadline - Date.now()));
    r = (await demo.group.getJson<HealthReport>(`${leader}/v1/health`)) ?? r;
    if (r?.status === "healthy") return;
    if (Date.now() > deadline) {
      const what = (r?.conditions ?? []).map((c) => `${c.type} ${c.object}`).join(", ");
      throw new Error(
        `health ${r?.status ?? "unknown"} after ${timeoutMs / 1000} s${what ? `: ${what}` : ""}`,
      );
    }
    await pause(500);
  }
}

/** The one-process demo's summary line, read from the gateway and the leader's API. */
export async function summaryLine(
  demo: ProcessDemo,
  password: string,
  tookMs: number,
): Promise<string> {
  const { emulator } = demo.world;
  const gw = new GatewayClient({
    url: emulator.gatewayUrl,
    password: new Secret(password, "demo"),
    ...(emulator.caFile ? { ca: readFileSync(emulator.caFile) } : {}),
  });
  try {
    const s = await clusterSummary(gw);
    const leader = await demo.group.leader(10_000);
    const pools =
      (
        await demo.group.getJson<{
          pools: { group: string; name: string; sparePercentage: number }[];
        }>(`${leader}/v1/pools`)
      )?.pools ?? [];
    const gib = (kb: number) => `${(kb / 2 ** 20).toFixed(0)} GiB`;
    const spare = pools.map((p) => `${p.group}/${p.name} ${p.sparePercentage} %`).join(", ");
    return (
      `healthy in ${(tookMs / 1000).toFixed(1)} s: MDM cluster ${mdmWords(s.mdmMode, s.clusterState)}, ` +
      `${s.sdsConnected}/${s.sdsTotal} SDS connected, raw ${gib(s.rawCapacityKb)}, usable ${gib(s.usableCapacityKb)}, ` +
      `${s.sdcConnected}/${s.sdcTotal} SDC connected, spare ${spare || "?"}, ${s.alerts.length} MDM alerts, no health condition`
    );
  } finally {
    await gw.close();
  }
}

/** The demo's run with scheduler processes: runDemo's, through the leader's API. */
export async function runProcessDemo(args: DemoArgs & { state: string }): Promise<void> {
  const out: Out = (l) => console.log(l);
  const starting = startProcessDemo(args, out, (l) => console.error(l));
  // Signals are handled from the start: a Ctrl-C during the deploy stops every scheduler,
  // agent and executor the demo started.
  const exit = stopOnSignals(starting);
  const stopAndExit = exit.stopAndExit;
  let demo: ProcessDemo;
  try {
    demo = await starting;
  } catch (err) {
    if (exit.stopping) return;
    console.error(`scaleio-framework: the demo did not start: ${(err as Error).message}`);
    process.exit(1);
  }
  if (exit.stopping) return;
  const startedAt = Date.now();
  try {
    await untilDeployed(demo, args.agents, args.deadlineMs, out);
    await untilHealthyViaApi(demo, 60_000);
    console.log(await summaryLine(demo, demoPassword(), Date.now() - startedAt));
    if (args.failover) {
      // The walk-through uses Mesos and the storage only: whichever scheduler leads.
      const { runFailover } = await import("./failover.js");
      const r = await runFailover(demo.world, { password: demoPassword() });
      console.log(
        r.read === r.written
          ? `failover ok: volume ${r.volumeId} read back on another agent with the same sha256`
          : `failover FAILED: wrote ${r.written}, read ${r.read}`,
      );
      if (r.read !== r.written) return stopAndExit(1);
    }
    if (args.exitWhenHealthy) return stopAndExit(0);
  } catch (err) {
    if (exit.stopping) return;
    console.error(`not healthy: ${(err as Error).message}`);
    return stopAndExit(1);
  }
}
