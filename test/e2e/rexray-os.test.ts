// REX-Ray on every init system: a deploy with REX-Ray's download on agents emulating Ubuntu
// 16.04 and RHEL 7 (systemd), Flatcar (systemd, read-only /usr: the programs go to /opt/bin),
// Ubuntu 14.04 (upstart) and RHEL 6 (SysV init). Each agent's REX-Ray step writes the service
// its init system runs, starts it and completes only once REX-Ray lists the cluster's volumes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDeployEnv, type DeployEnv, type SchedulerProc } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";
import { prepareEmulatedOs, type EmulatedOsName } from "../../sim/mesos/emulated-os.js";
import { dvdcliTarballName, rexrayTarballName } from "../../sim/scaleio/volume-driver/packages.js";

const TOKEN = "rexray-os-token-0123456789abcdef";
const OSES: EmulatedOsName[] = ["ubuntu-16.04", "rhel-7", "flatcar", "ubuntu-14.04", "rhel-6"];
const EXPECT: Record<string, { init: string; service: string; bin: string }> = {
  "ubuntu-16.04": { init: "systemd", service: "etc/systemd/system/rexray.service", bin: "usr/bin" },
  "rhel-7": { init: "systemd", service: "etc/systemd/system/rexray.service", bin: "usr/bin" },
  flatcar: { init: "systemd", service: "etc/systemd/system/rexray.service", bin: "opt/bin" },
  "ubuntu-14.04": { init: "upstart", service: "etc/init/rexray.conf", bin: "usr/bin" },
  "rhel-6": { init: "sysv", service: "etc/init.d/rexray", bin: "usr/bin" },
};

let env: DeployEnv | undefined;
let proc: SchedulerProc | undefined;
after(async () => {
  await proc?.stop();
  await env?.stop();
});

type Step = { id: string; status: string; message?: string; lastError?: string };
type Plan = { status: string; phases: { steps: Step[] }[] };

test(
  "REX-Ray installed, started and proven on systemd, upstart and SysV agents, and under /opt/bin on Flatcar",
  { timeout: 420_000 },
  async () => {
    env = await startDeployEnv({ agents: OSES.length, storageAgents: 3 });
    const e = env;
    const hosts = e.cluster.agents.map((a) => a.host);
    const ids = await Promise.all(e.cluster.agents.map((a) => a.id()));
    for (const [i, host] of hosts.entries())
      prepareEmulatedOs(join(e.dir, "nodes", host), OSES[i]!);
    const deb = (c: string) =>
      `${e.emulator.controlUrl}/repo/emc-scaleio-${c}_2.0-6035.0_amd64.deb`;
    proc = e.startScheduler(
      [
        ...["mdm", "sds", "sdc", "lia", "gateway"].flatMap((c) => [`--package-deb-${c}`, deb(c)]),
        "--sdc-driver-repo",
        e.emulator.driverRepoUrl,
        "--rexray-url",
        `${e.emulator.controlUrl}/repo/${rexrayTarballName()}`,
        "--dvdcli-url",
        `${e.emulator.controlUrl}/repo/${dvdcliTarballName()}`,
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
    ).catch((err: Error) => {
      const open = (plan?.phases ?? [])
        .flatMap((p) => p.steps)
        .filter((s) => s.status !== "COMPLETE")
        .map((s) => `${s.id} ${s.status} ${s.message ?? ""} ${s.lastError ?? ""}`);
      assert.fail(`${err.message}; open steps: ${open.join("; ")}`);
    });
    const steps = plan!.phases.flatMap((p) => p.steps);
    for (const [i, host] of hosts.entries()) {
      const want = EXPECT[OSES[i]!]!;
      const s = steps.find((x) => x.id === `rexray/${ids[i]}`)!;
      assert.match(
        s.message ?? "",
        new RegExp(
          `^REX-Ray 0\\.11\\.4 installed, service rexray running \\(${want.init}\\), dvdcli installed; lists \\d+ volumes? through the ScaleIO driver$`,
        ),
        OSES[i],
      );
      const root = join(e.dir, "nodes", host);
      assert.ok(existsSync(join(root, want.service)), `${want.service} on ${OSES[i]}`);
      assert.ok(existsSync(join(root, want.bin, "rexray")), `rexray in ${want.bin} on ${OSES[i]}`);
      assert.ok(existsSync(join(root, want.bin, "dvdcli")), `dvdcli in ${want.bin} on ${OSES[i]}`);
    }
    assert.ok(
      !existsSync(join(e.dir, "nodes", hosts[2]!, "usr/bin/rexray")),
      "nothing under Flatcar's /usr",
    );
  },
);
