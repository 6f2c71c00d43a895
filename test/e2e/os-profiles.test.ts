// A deploy on a mixed cluster of emulated operating systems: Ubuntu 16.04 and 18.04 (deb,
// systemd), RHEL 7 (rpm, systemd), Flatcar and CoreOS (no package manager: payloads unpacked
// under /opt/emc/scaleio, systemd units under /etc/systemd/system), plus an Ubuntu 18.04
// agent whose kernel no scini driver was built for. That agent's SDC step fails with the
// reason while every other step (its own LIA included) completes; once the driver repository
// has a driver for that kernel, restarting the step finishes the deploy, and the cluster is
// healthy.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDeployEnv, type DeployEnv, type SchedulerProc } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";
import { prepareEmulatedOs, type EmulatedOsName } from "../../sim/mesos/emulated-os.js";

const TOKEN = "os-profiles-token-0123456789abcdef";
const ODD_KERNEL = "4.15.0-112-generic";
const OSES: EmulatedOsName[] = [
  "ubuntu-16.04",
  "rhel-7",
  "flatcar",
  "ubuntu-18.04",
  "coreos",
  "ubuntu-18.04",
];

let env: DeployEnv | undefined;
let proc: SchedulerProc | undefined;
after(async () => {
  await proc?.stop();
  await env?.stop();
});

type Step = { id: string; status: string; message?: string; lastError?: string; retryAt?: number };
type Plan = { status: string; phases: { steps: Step[] }[] };

test(
  "mixed OS cluster: deb, rpm and unpacked installs reach healthy; a kernel without a scini driver fails only that SDC step",
  { timeout: 420_000 },
  async () => {
    env = await startDeployEnv({ agents: OSES.length, storageAgents: 3 });
    const hosts = env.cluster.agents.map((a) => a.host);
    const ids = await Promise.all(env.cluster.agents.map((a) => a.id()));
    for (const [i, host] of hosts.entries()) {
      prepareEmulatedOs(
        join(env.dir, "nodes", host),
        OSES[i]!,
        i === 5 ? { kernel: ODD_KERNEL } : {},
      );
    }
    const odd = ids[5]!;
    const deb = (c: string) =>
      `${env!.emulator.controlUrl}/repo/emc-scaleio-${c}_2.0-6035.0_amd64.deb`;
    proc = env.startScheduler(
      [
        ...["mdm", "sds", "sdc", "lia", "gateway"].flatMap((c) => [`--package-deb-${c}`, deb(c)]),
        "--sdc-driver-repo",
        env.emulator.driverRepoUrl,
      ],
      { SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
    );
    const api = () => proc!.apiUrl();
    const get = async <T>(path: string): Promise<T | undefined> => {
      const base = api();
      if (!base) return undefined;
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return res.ok ? ((await res.json()) as T) : undefined;
    };
    const steps = async () =>
      ((await get<Plan>("/v1/plans/deploy"))?.phases ?? []).flatMap((p) => p.steps);
    const until = (cond: () => Promise<boolean>, timeoutMs: number, what: string) =>
      waitUntil(cond, { timeoutMs, intervalMs: 500, what }).catch((err: Error) =>
        assert.fail(`${err.message}; the scheduler logged:\n${proc!.stderr().slice(-4000)}`),
      );

    // The odd agent's SDC fails for good, with the reason; everything not behind it completes.
    const sdcStep = `sdc/${odd}`;
    let all: Step[] = [];
    await until(
      async () => {
        all = await steps();
        const sdc = all.find((s) => s.id === sdcStep);
        return (
          sdc?.status === "ERROR" &&
          sdc.retryAt === undefined &&
          all
            .filter((s) => s.id.startsWith("lia") || s.id.startsWith("sds-lia"))
            .every((s) => s.status === "COMPLETE") &&
          all
            .filter((s) => /^sdc\//.test(s.id) && s.id !== sdcStep)
            .every((s) => s.status === "COMPLETE")
        );
      },
      300_000,
      "every SDC but the odd kernel's installed, that one failed",
    );
    const failed = all.find((s) => s.id === sdcStep)!;
    const why = `${failed.message ?? ""} ${failed.lastError ?? ""}`;
    assert.match(
      why,
      new RegExp(
        `no scini driver for kernel ${ODD_KERNEL.replace(/\./g, "\\.")} in ${env.emulator.driverRepoUrl}`,
      ),
    );
    const failedIds = all
      .filter((s) => s.status === "ERROR" && s.retryAt === undefined)
      .map((s) => s.id);
    assert.deepEqual(failedIds, [sdcStep], "only that SDC step failed for good");
    assert.equal(all.find((s) => s.id === `lia/${odd}`)?.status ?? "COMPLETE", "COMPLETE");
    const sys = env.emulator.sys;
    assert.ok(sys.nodes.get(hosts[5]!)?.packages.has("lia"), "the odd agent's LIA is installed");
    assert.equal(sys.nodes.get(hosts[5]!)?.packages.has("sdc") ?? false, false);

    // The discover steps say what each host is.
    const facts = (i: number) => all.find((s) => s.id === `facts/${ids[i]}`)?.message ?? "";
    assert.match(
      facts(2),
      /^flatcar: payloads unpacked, systemd, kernel 5\.10\.43-flatcar, 2 usable devices$/,
    );
    assert.match(facts(0), /^ubuntu-16\.04: deb packages, systemd, kernel 4\.4\.0-186-generic/);
    assert.match(facts(1), /^rhel-7: rpm packages, systemd, kernel 3\.10\.0-1160\.el7\.x86_64/);

    // Each OS got the package its way.
    for (const [i, host] of hosts.entries()) {
      const pk = sys.nodes.get(host)?.packages;
      assert.ok(pk?.get("lia"), `lia on ${OSES[i]}`);
      const root = join(env.dir, "nodes", host);
      if (OSES[i] === "flatcar" || OSES[i] === "coreos") {
        assert.ok(existsSync(join(root, "etc/systemd/system/lia.service")), `unit on ${OSES[i]}`);
        assert.ok(
          existsSync(join(root, "var/lib/scaleio-framework/packages/EMC-ScaleIO-lia.json")),
        );
        assert.equal(existsSync(join(root, "usr/lib/systemd/system/lia.service")), false);
      } else {
        assert.equal(pk?.get("lia")?.flavor, OSES[i]!.startsWith("ubuntu") ? "deb" : "rpm", host);
      }
    }

    // The operator adds the driver to the repository and restarts the step: the deploy finishes.
    const repoDir = fileURLToPath(env.emulator.driverRepoUrl);
    mkdirSync(join(repoDir, ODD_KERNEL), { recursive: true });
    writeFileSync(join(repoDir, ODD_KERNEL, "scini.tar"), "scini driver (added by the operator)\n");
    const r = await fetch(`${api()}/v1/plans/deploy/restart`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ step: sdcStep }),
    });
    assert.equal(r.status, 200, await r.text());
    await until(
      async () => (await get<Plan>("/v1/plans/deploy"))?.status === "COMPLETE",
      240_000,
      "the deploy plan to complete",
    );
    await until(
      async () => (await get<{ status: string }>("/v1/health"))?.status === "healthy",
      60_000,
      "/v1/health healthy",
    );
    assert.equal(sys.sdcByIp(hosts[5]!)?.ip, hosts[5]);
    assert.match(
      readFileSync(
        join(
          env.dir,
          "nodes",
          hosts[5]!,
          "bin/emc/scaleio/scini_sync/driver_cache",
          ODD_KERNEL,
          "scini.tar",
        ),
        "utf8",
      ),
      /added by the operator/,
    );
    for (const host of hosts) assert.ok(sys.sdcByIp(host), `an SDC on ${host}`);
  },
);
