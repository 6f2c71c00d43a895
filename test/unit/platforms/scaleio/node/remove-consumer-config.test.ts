// scaleio.remove-consumer-config on an emulated node: after the REX-Ray and isolator steps
// wrote their files, it removes REX-Ray's config.yml, the module description and the agent's
// `modules` file, and takes only the DVDI isolator out of the `isolation` list (the
// operator's isolators stay); a rerun finds nothing left; a `modules` file naming someone
// else's description is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";
import {
  dvdcliTarballName,
  rexrayTarballName,
  writeVolumeDriverPackages,
} from "../../../../../sim/scaleio/volume-driver/packages.js";

const PW = "S3cret-pw";

test("remove-consumer-config: REX-Ray's and the isolator's files go, the operator's isolators stay; a rerun changes nothing", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.41";
    const root = n.rootOf(ip);
    mkdirSync(join(root, "etc/mesos-slave"), { recursive: true });
    writeFileSync(join(root, "etc/mesos-slave/isolation"), "cgroups/cpu,cgroups/mem\n");
    data(
      await step(
        n,
        ip,
        "scaleio.rexray-config",
        {
          endpoint: "https://10.50.0.1:443/api",
          systemName: "scaleio",
          protectionDomain: "pd1",
          storagePool: "sp1",
        },
        { password: PW },
      ),
    );
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    writeFileSync(join(root, "usr/lib/libmesos_dvdi_isolator-1.1.0.so"), "");
    data(
      await step(n, ip, "scaleio.isolator-config", {
        isolatorPath: "/usr/lib/libmesos_dvdi_isolator-1.1.0.so",
      }),
    );
    assert.ok(existsSync(join(root, "etc/rexray/config.yml")));
    assert.match(readFileSync(join(root, "etc/mesos-slave/isolation"), "utf8"), /DockerVolume/);

    const params = { rexray: true, modulesFile: "/usr/lib/dvdi-mod.json" };
    const first = data<{ removed: string[]; changed: string[]; agentRestartRequired: boolean }>(
      await step(n, ip, "scaleio.remove-consumer-config", params),
    );
    assert.deepEqual(first.removed, [
      "/etc/rexray/config.yml",
      "/usr/lib/dvdi-mod.json",
      "/etc/mesos-slave/modules",
    ]);
    assert.deepEqual(first.changed, ["/etc/mesos-slave/isolation"]);
    assert.equal(first.agentRestartRequired, true);
    assert.ok(!existsSync(join(root, "etc/rexray/config.yml")));
    assert.equal(
      readFileSync(join(root, "etc/mesos-slave/isolation"), "utf8"),
      "cgroups/cpu,cgroups/mem\n",
    );

    const again = data<{ removed: string[]; changed: string[] }>(
      await step(n, ip, "scaleio.remove-consumer-config", params),
    );
    assert.deepEqual(again, { removed: [], changed: [], agentRestartRequired: false });

    writeFileSync(join(root, "etc/mesos-slave/modules"), "file:///etc/other-modules.json\n");
    data(await step(n, ip, "scaleio.remove-consumer-config", params));
    assert.ok(existsSync(join(root, "etc/mesos-slave/modules")), "the operator's modules file");
  } finally {
    await n.close();
  }
});

test("remove-consumer-config: REX-Ray's service is stopped and removed, and the programs its install wrote go; a program replaced since stays", async () => {
  const n = await startEmuNodes();
  try {
    const boot = await fetch(`${n.emu.controlUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PW }),
    });
    assert.equal(boot.status, 200);
    writeVolumeDriverPackages(n.emu.repoDir);
    const ip = "10.50.0.42";
    const root = n.rootOf(ip);
    data(
      await step(n, ip, "scaleio.install-package", {
        component: "sdc",
        url: n.rpmUrl("sdc"),
        mdmIps: ["10.20.0.11", "10.20.0.12"],
      }),
    );
    data(
      await step(
        n,
        ip,
        "scaleio.rexray-config",
        {
          endpoint: `${n.emu.gatewayUrl}/api`,
          systemName: "scaleio",
          protectionDomain: "default",
          storagePool: "default",
        },
        { password: PW },
      ),
    );
    // Another program of the operator's in the same folder: never ours to remove.
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "usr/bin/docker"), "#!/bin/sh\n", { mode: 0o755 });
    data(
      await step(n, ip, "scaleio.rexray-install", {
        rexrayUrl: `${n.emu.controlUrl}/repo/${rexrayTarballName()}`,
        dvdcliUrl: `${n.emu.controlUrl}/repo/${dvdcliTarballName()}`,
      }),
    );
    const isActive = () =>
      n.emu.tools.run("systemctl", { ip, root, env: {} }, ["is-active", "rexray"]).stdout;
    assert.equal(isActive(), "active\n");
    for (const f of ["usr/bin/rexray", "usr/bin/dvdcli", "etc/systemd/system/rexray.service"])
      assert.ok(existsSync(join(root, f)), f);

    const params = { rexray: true };
    const first = await step(n, ip, "scaleio.remove-consumer-config", params);
    const r = data<{ removed: string[]; kept?: string[] }>(first);
    assert.deepEqual(r.removed, [
      "/etc/systemd/system/rexray.service",
      "/usr/bin/rexray",
      "/usr/bin/dvdcli",
      "/etc/rexray/config.yml",
    ]);
    assert.equal(r.kept, undefined);
    // The unit is gone (systemd no longer knows it), and it was stopped first: put back, it
    // is not running.
    assert.equal(isActive(), "unknown\n");
    writeFileSync(join(root, "etc/systemd/system/rexray.service"), "[Unit]\n");
    assert.equal(isActive(), "inactive\n");
    rmSync(join(root, "etc/systemd/system/rexray.service"));
    for (const f of [
      "usr/bin/rexray",
      "usr/bin/dvdcli",
      "etc/systemd/system/rexray.service",
      "var/lib/scaleio-framework/rexray.json",
    ])
      assert.ok(!existsSync(join(root, f)), f);
    assert.ok(existsSync(join(root, "usr/bin/docker")), "the operator's program stays");
    assert.deepEqual(data(await step(n, ip, "scaleio.remove-consumer-config", params)), {
      removed: [],
      changed: [],
      agentRestartRequired: false,
    });

    // Installed again, then dvdcli replaced by the operator: it stays, and the step says so.
    data(
      await step(
        n,
        ip,
        "scaleio.rexray-config",
        {
          endpoint: `${n.emu.gatewayUrl}/api`,
          systemName: "scaleio",
          protectionDomain: "default",
          storagePool: "default",
        },
        { password: PW },
      ),
    );
    data(
      await step(n, ip, "scaleio.rexray-install", {
        rexrayUrl: `${n.emu.controlUrl}/repo/${rexrayTarballName()}`,
        dvdcliUrl: `${n.emu.controlUrl}/repo/${dvdcliTarballName()}`,
      }),
    );
    writeFileSync(join(root, "usr/bin/dvdcli"), "#!/bin/sh\necho mine\n", { mode: 0o755 });
    const second = await step(n, ip, "scaleio.remove-consumer-config", params);
    const r2 = data<{ removed: string[]; kept?: string[] }>(second);
    assert.deepEqual(r2.kept, ["/usr/bin/dvdcli (changed since the framework installed it)"]);
    assert.ok(!r2.removed.includes("/usr/bin/dvdcli"));
    assert.equal(readFileSync(join(root, "usr/bin/dvdcli"), "utf8"), "#!/bin/sh\necho mine\n");
    assert.ok(!existsSync(join(root, "usr/bin/rexray")));
    assert.ok(second.progress.some((m) => /kept \/usr\/bin\/dvdcli/.test(m)));
  } finally {
    await n.close();
  }
});
