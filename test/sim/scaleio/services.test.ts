// Killed ScaleIO processes and the repairs a node's service commands make: `systemctl` on a
// RHEL 7 (rpm) node, `service` on an Ubuntu 14.04 (deb, upstart) node, and the init scripts
// the packages install, all acting on the emulated node only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simBinDir } from "../../../sim/scaleio/node/packages.js";
import { onNode, startTestEmu, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };

async function admin(t: TestEmu, path: string, method = "POST", body: unknown = {}) {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method,
    ...(method === "POST"
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return (await r.json()) as Record<string, unknown>;
}

function spawnTool(path: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      path,
      args,
      { env: { ...process.env, NODE_OPTIONS: "", ...env }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function sdsByIp(t: TestEmu, ip: string): Promise<Obj> {
  const all = await t.api.get<(Obj & { ipList: { ip: string }[] })[]>("/api/types/Sds/instances");
  return all.find((s) => s.ipList.some((i) => i.ip === ip))!;
}

test("a killed SDS degrades its data and starts a rebuild; `systemctl restart sds` on its node brings it back", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(48 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const stats = () =>
      t.api.get<Record<string, number>>(
        `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
      );
    const ctl = (ip: string, ...argv: string[]) => onNode(t.emu, ip, "systemctl", argv);
    assert.deepEqual(ctl("10.20.0.13", "is-active", "sds"), {
      stdout: "active\n",
      stderr: "",
      exitCode: 0,
    });

    assert.deepEqual(await admin(t, "/admin/sds/10.20.0.13/kill"), {
      ip: "10.20.0.13",
      component: "sds",
      alive: false,
    });
    assert.equal((await sdsByIp(t, "10.20.0.13")).mdmConnectionState, "Disconnected");
    const down = await stats();
    assert.ok(down.degradedHealthyCapacityInKb! > 0);
    assert.ok(down.fwdRebuildCapacityInKb! > 0 && down.activeFwdRebuildCapacityInKb! > 0);
    assert.deepEqual(ctl("10.20.0.13", "is-active", "sds.service"), {
      stdout: "failed\n",
      stderr: "",
      exitCode: 3,
    });
    const status = ctl("10.20.0.13", "status", "sds");
    assert.equal(status.exitCode, 3);
    assert.match(status.stdout, /^● sds\.service - ScaleIO SDS\n[\s\S]*Active: failed/);
    const node13 = ((await admin(t, "/admin/state", "GET")).nodes as Obj[]).find(
      (n) => n.ip === "10.20.0.13",
    )!;
    assert.deepEqual(node13.services, { mdm: "active", sds: "failed" });
    assert.equal(node13.initSystem, "systemd");

    // Another node's systemctl acts on that node only; units no package installed are unknown.
    assert.equal(ctl("10.20.0.12", "restart", "sds").exitCode, 0);
    assert.equal((await sdsByIp(t, "10.20.0.13")).mdmConnectionState, "Disconnected");
    assert.deepEqual(ctl("10.20.0.13", "--no-block", "restart", "mesos-slave"), {
      stdout: "",
      stderr: "Failed to restart mesos-slave.service: Unit not found.\n",
      exitCode: 5,
    });

    // The repair: restarted before the forward rebuild ended, it resynchronises (backward rebuild).
    assert.deepEqual(ctl("10.20.0.13", "restart", "sds"), { stdout: "", stderr: "", exitCode: 0 });
    assert.equal((await sdsByIp(t, "10.20.0.13")).mdmConnectionState, "Connected");
    assert.ok((await stats()).bckRebuildCapacityInKb! > 0);
    assert.equal(ctl("10.20.0.13", "is-active", "sds").stdout, "active\n");
    await admin(t, "/admin/time", "POST", { advanceSeconds: 3600 });
    await t.api.login(); // the token's idle lifetime is over
    const after = await stats();
    assert.equal(after.degradedHealthyCapacityInKb, 0);
    assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);

    // stop is a clean stop ("inactive"); start brings it back
    assert.equal(ctl("10.20.0.13", "stop", "sds").exitCode, 0);
    assert.equal(ctl("10.20.0.13", "is-active", "sds").stdout, "inactive\n");
    assert.equal(ctl("10.20.0.13", "start", "sds").exitCode, 0);
    assert.equal((await sdsByIp(t, "10.20.0.13")).mdmConnectionState, "Connected");
  } finally {
    await t.close();
  }
});

test("a killed master MDM hands mastership to the slave; `service mdm restart` brings it back as a slave", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const sysId = t.emu.sys.id;
    const cluster = () =>
      t.api.post<{
        clusterState: string;
        goodNodesNum: number;
        master: { name: string; ips: string[] };
        slaves: { name: string; status: string }[];
      }>(`/api/instances/System::${sysId}/action/queryMdmCluster`, {});
    const systemState = async () =>
      (await t.api.get<Obj[]>("/api/types/System/instances"))[0]!.mdmClusterState;
    assert.equal((await cluster()).master.name, "mdm1");

    await admin(t, "/admin/mdm/10.20.0.11/kill");
    const degraded = await cluster();
    assert.equal(degraded.clusterState, "ClusteredDegraded");
    assert.equal(degraded.goodNodesNum, 2);
    assert.deepEqual(degraded.master.ips, ["10.20.0.12"]);
    assert.deepEqual(
      degraded.slaves.map((s) => [s.name, s.status]),
      [["mdm1", "Disconnected"]],
    );
    assert.equal(await systemState(), "ClusteredDegraded");
    const alerts = await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances");
    assert.ok(alerts.some((a) => a.alertType === "MDM_CLUSTER_DEGRADED"));

    const r = onNode(t.emu, "10.20.0.11", "service", ["mdm", "restart"]);
    assert.deepEqual(r, {
      stdout: "",
      stderr: "Redirecting to /bin/systemctl restart  mdm.service\n",
      exitCode: 0,
    });
    const back = await cluster();
    assert.equal(back.clusterState, "ClusteredNormal");
    assert.equal(back.master.name, "mdm2", "mastership stays where it moved");
    assert.deepEqual(
      back.slaves.map((s) => [s.name, s.status]),
      [["mdm1", "Normal"]],
    );

    // The tie-breaker down is a state of its own.
    await admin(t, "/admin/mdm/tb/kill");
    assert.equal((await cluster()).clusterState, "ClusteredTiebreakerDown");
    assert.equal(await systemState(), "ClusteredTiebreakerDown");
    assert.equal(onNode(t.emu, "10.20.0.13", "systemctl", ["start", "mdm"]).exitCode, 0);
    assert.equal(await systemState(), "ClusteredNormal");
  } finally {
    await t.close();
  }
});

test("5_node: a manager and a tie-breaker down is ClusteredDegradedTiebreakerDown", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "5_node", password: "S3cret-pw" } });
  try {
    await t.api.login();
    await admin(t, "/admin/mdm/mdm2/kill");
    await admin(t, "/admin/mdm/tb1/kill");
    const s = (await t.api.get<Obj[]>("/api/types/System/instances"))[0]!;
    assert.equal(s.mdmClusterState, "ClusteredDegradedTiebreakerDown");
  } finally {
    await t.close();
  }
});

test("a killed SDC disconnects; its init script (scini) brings it back, through the node tools on PATH", async () => {
  const t = await startTestEmu({ bootstrap: false });
  const roots = mkdtempSync(join(tmpdir(), "scaleio-svc-"));
  try {
    // A RHEL 7 node gets the SDC package through the forwarding rpm; an Ubuntu 14.04 node the
    // SDS package through dpkg.
    const env = (ip: string, extra: Record<string, string> = {}) => ({
      PATH: `${simBinDir()}:${process.env.PATH ?? ""}`,
      SCALEIO_SIM_CONTROL: t.emu.controlUrl,
      SCALEIO_SIM_NODE_IP: ip,
      SCALEIO_SIM_ROOT: join(roots, ip),
      ...extra,
    });
    await admin(t, "/admin/bootstrap", "POST", { password: "Scaleio123" });
    const sdcRpm = join(t.emu.repoDir, "EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm");
    const inst = await spawnTool(
      join(simBinDir(), "rpm"),
      ["-Uvh", sdcRpm],
      env("10.20.0.31", { MDM_IP: "10.20.0.11,10.20.0.12" }),
    );
    assert.equal(inst.code, 0, inst.stderr);
    const script = join(roots, "10.20.0.31", "etc/init.d/scini");
    assert.ok(existsSync(script), "the SDC package installs the scini init script");
    await t.api.login("admin", "Scaleio123");
    const sdc = async () =>
      (await t.api.get<Obj[]>("/api/types/Sdc/instances")).find((s) => s.sdcIp === "10.20.0.31")!;
    assert.equal((await sdc()).mdmConnectionState, "Connected");

    await admin(t, "/admin/sdc/10.20.0.31/kill");
    assert.equal((await sdc()).mdmConnectionState, "Disconnected");
    const alerts = await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances");
    assert.ok(alerts.some((a) => a.alertType === "SDC_DISCONNECTED"));
    const st = await spawnTool(
      join(simBinDir(), "systemctl"),
      ["is-active", "scini"],
      env("10.20.0.31"),
    );
    assert.deepEqual([st.code, st.stdout], [3, "failed\n"]);
    const restart = await spawnTool(script, ["restart"], {});
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal(restart.stdout, "Restarting scini (via systemctl):  [  OK  ]\n");
    assert.equal((await sdc()).mdmConnectionState, "Connected");

    // Ubuntu 14.04: upstart jobs; no systemctl; `service` stops (ignoring a dead job) and starts.
    const deb = join(t.emu.repoDir, "emc-scaleio-sds_2.0-6035.0_amd64.deb");
    assert.equal(
      (await spawnTool(join(simBinDir(), "dpkg"), ["-i", deb], env("10.20.0.41"))).code,
      0,
    );
    assert.ok(existsSync(join(roots, "10.20.0.41", "etc/init/sds.conf")));
    const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
    await t.api.post("/api/types/Sds/instances", {
      name: "sds-ubuntu",
      protectionDomainId: pd.id,
      sdsIpList: [{ SdsIp: { ip: "10.20.0.41", role: "all" } }],
    });
    await admin(t, "/admin/sds/10.20.0.41/kill");
    assert.equal((await sdsByIp(t, "10.20.0.41")).mdmConnectionState, "Disconnected");
    const noSystemd = onNode(t.emu, "10.20.0.41", "systemctl", ["restart", "sds"]);
    assert.equal(noSystemd.exitCode, 127);
    const svc = await spawnTool(
      join(simBinDir(), "service"),
      ["sds", "restart"],
      env("10.20.0.41"),
    );
    assert.deepEqual(svc, {
      code: 0,
      stdout: "sds start/running, process 4203\n",
      stderr: "stop: Unknown instance: \n",
    });
    assert.equal((await sdsByIp(t, "10.20.0.41")).mdmConnectionState, "Connected");
    assert.deepEqual(onNode(t.emu, "10.20.0.41", "service", ["sds", "status"]), {
      stdout: "sds start/running, process 4203\n",
      stderr: "",
      exitCode: 0,
    });
    assert.deepEqual(onNode(t.emu, "10.20.0.41", "service", ["docker", "restart"]), {
      stdout: "",
      stderr: "docker: unrecognized service\n",
      exitCode: 1,
    });
    // removing the package removes its job
    await spawnTool(join(simBinDir(), "dpkg"), ["-r", "emc-scaleio-sds"], env("10.20.0.41"));
    assert.ok(!existsSync(join(roots, "10.20.0.41", "etc/init/sds.conf")));
  } finally {
    await t.close();
    rmSync(roots, { recursive: true, force: true });
  }
});
