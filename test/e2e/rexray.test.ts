// A deploy with REX-Ray and dvdcli downloads configured (--rexray-url, --dvdcli-url): every
// agent's REX-Ray step installs both, starts REX-Ray's service with the agent's init system and
// completes only once REX-Ray lists the cluster's volumes through its ScaleIO driver. Then,
// with the deployed programs and configuration as they are on each agent: a volume created
// through REX-Ray on one agent is listed on every agent, attached on one (its device appears
// there), and taken over by another through preemption; dvdcli mounts it back.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { startDeployEnv, type DeployEnv, type SchedulerProc } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";
import { simBinDir } from "../../sim/scaleio/node/packages.js";
import { dvdcliTarballName, rexrayTarballName } from "../../sim/scaleio/volume-driver/packages.js";

const TOKEN = "rexray-e2e-token-0123456789abcdef";

let env: DeployEnv | undefined;
let proc: SchedulerProc | undefined;
after(async () => {
  await proc?.stop();
  await env?.stop();
});

type Step = { id: string; status: string; message?: string; lastError?: string };
type Plan = { status: string; phases: { steps: Step[] }[] };
type Vol = { id: string; name: string; status: string; deviceName?: string };

function run(cmd: string, args: string[], vars: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, NODE_OPTIONS: "", ...vars }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test(
  "deploy installs, starts and proves REX-Ray on every agent; volumes move between agents through it",
  { timeout: 420_000 },
  async () => {
    env = await startDeployEnv({ agents: 4, storageAgents: 3 });
    const e = env;
    const hosts = e.cluster.agents.map((a) => a.host);
    const ids = await Promise.all(e.cluster.agents.map((a) => a.id()));
    proc = e.startScheduler(
      [
        "--rexray-url",
        `${e.emulator.controlUrl}/repo/${rexrayTarballName()}`,
        "--dvdcli-url",
        `${e.emulator.controlUrl}/repo/${dvdcliTarballName()}`,
        "--isolator-mode",
        "docker-volume",
      ],
      { SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
    );
    const get = async <T>(path: string): Promise<T | undefined> => {
      const base = proc!.apiUrl();
      if (!base) return undefined;
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return res.ok ? ((await res.json()) as T) : undefined;
    };
    let plan: Plan | undefined;
    await waitUntil(
      async () => (plan = await get<Plan>("/v1/plans/deploy"))?.status === "COMPLETE",
      { timeoutMs: 300_000, intervalMs: 500, what: "the deploy plan to complete" },
    ).catch((err: Error) =>
      assert.fail(`${err.message}; the scheduler logged:\n${proc!.stderr().slice(-4000)}`),
    );
    const steps = plan!.phases.flatMap((p) => p.steps);

    // Every agent: REX-Ray installed, its service running, proven; dvdcli there for the isolator.
    for (const [i, host] of hosts.entries()) {
      const s = steps.find((x) => x.id === `rexray/${ids[i]}`);
      assert.equal(s?.status, "COMPLETE", host);
      assert.match(
        s!.message ?? "",
        /^REX-Ray 0\.11\.4 installed, service rexray running \(systemd\), dvdcli installed; lists \d+ volumes? through the ScaleIO driver$/,
        host,
      );
      const root = join(e.dir, "nodes", host);
      for (const program of ["rexray", "dvdcli"])
        assert.equal(statSync(join(root, "usr/bin", program)).mode & 0o777, 0o755, program);
      assert.ok(existsSync(join(root, "etc/systemd/system/rexray.service")));
      const active = e.emulator.tools.run("systemctl", { ip: host, root, env: {} }, [
        "is-active",
        "rexray",
      ]);
      assert.equal(active.stdout, "active\n", `REX-Ray's service on ${host}`);
      assert.equal(steps.find((x) => x.id === `isolator/${ids[i]}`)?.status, "COMPLETE");
    }

    // The deployed REX-Ray of each agent, with that agent's configuration.
    const on = (host: string) => {
      const vars = {
        PATH: `${simBinDir()}:${process.env.PATH ?? ""}`,
        SCALEIO_SIM_CONTROL: e.emulator.controlUrl,
        SCALEIO_SIM_NODE_IP: host,
        SCALEIO_SIM_ROOT: join(e.dir, "nodes", host),
      };
      const root = vars.SCALEIO_SIM_ROOT;
      const json = async <T>(program: string, ...args: string[]): Promise<T> => {
        const r = await run(join(root, "usr/bin", program), [...args, "--format", "json"], vars);
        assert.equal(r.code, 0, `${program} ${args.join(" ")} on ${host}: ${r.stderr}`);
        return JSON.parse(r.stdout) as T;
      };
      return {
        root,
        rexray: <T = Vol[]>(...args: string[]) => json<T>("rexray", ...args),
        dvdcli: (...args: string[]) => run(join(root, "usr/bin/dvdcli"), args, vars),
      };
    };
    const [a, b] = [on(hosts[0]!), on(hosts[3]!)];
    await a.rexray("volume", "create", "e2e-data", "--size", "8");
    for (const host of hosts) {
      const listed = await on(host).rexray("volume", "ls");
      assert.deepEqual(
        listed.map((v) => v.name),
        ["e2e-data"],
        `REX-Ray on ${host} lists the cluster's volumes`,
      );
    }
    const attached = (await a.rexray("volume", "attach", "e2e-data"))[0]!;
    assert.ok(attached.deviceName && existsSync(join(a.root, attached.deviceName)));
    // Preemption (the configuration the framework writes has it on): B takes the volume over.
    const moved = (await b.rexray("volume", "attach", "e2e-data"))[0]!;
    assert.equal(moved.status, "attached");
    assert.ok(existsSync(join(b.root, moved.deviceName!)));
    assert.ok(!existsSync(join(a.root, attached.deviceName)), "unmapped from the first agent");
    const back = await a.dvdcli("mount", "--volumedriver=rexray", "--volumename=e2e-data");
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout.trim(), "/var/lib/rexray/volumes/e2e-data/data");
    assert.ok(existsSync(join(a.root, attached.deviceName)));
    const sys = e.emulator.sys;
    const vol = sys.listVolumes().find((v) => v.name === "e2e-data")!;
    assert.deepEqual(
      vol.mappings.map((m) => sys.sdcs.get(m.sdcId)?.ip),
      [hosts[0]],
      "mapped to the first agent's SDC only",
    );
  },
);
