// The ScaleIO install steps on each emulated OS: the package tool where there is one (deb on
// Ubuntu, rpm on RHEL, each with its init system's success marker), the payload unpacked and
// a systemd unit started where there is none (Flatcar, CoreOS), and the SDC's scini driver
// for the running kernel found in the package or the driver repository, or the step failing
// with the reason while the node's other components are unaffected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startEmuNodes, type EmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";
import { prepareEmulatedOs, type EmulatedOsName } from "../../../../../sim/mesos/emulated-os.js";

const PW = "S3cret-pw";
const TRICKY = 'S3"cret\\pw $HOME #x';
const debUrl = (n: EmuNodes, c: string) =>
  `${n.emu.controlUrl}/repo/emc-scaleio-${c}_2.0-6035.0_amd64.deb`;
const errorOf = (r: { result: unknown }) => (r.result as { error?: string }).error ?? "";

async function oneNodeCluster(n: EmuNodes, mgr: string) {
  data(
    await step(n, mgr, "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    }),
  );
  data(
    await step(
      n,
      mgr,
      "scaleio.mdm-cluster",
      { primary: { ip: mgr, name: "mdm1" }, secondaries: [], tiebreakers: [], systemName: "s1" },
      { password: PW },
    ),
  );
}

test("Flatcar: no prerequisites, the MDM unpacked under /opt/emc/scaleio with a systemd unit, a cluster formed on it; rpm is not there", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.60.0.1";
    prepareEmulatedOs(n.rootOf(ip), "flatcar");
    const pre = data<{ packages: string[] }>(
      await step(n, ip, "scaleio.install-prerequisites", undefined),
    );
    assert.deepEqual(pre.packages, []);
    const mdm = await step(n, ip, "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    assert.equal(data<{ version: string }>(mdm).version, "2.0-6035.0");
    assert.ok(mdm.progress.some((m) => /unpacking .* has no package manager/.test(m)));
    const root = n.rootOf(ip);
    const unit = readFileSync(join(root, "etc/systemd/system/mdm.service"), "utf8");
    assert.match(unit, /EnvironmentFile=-\/opt\/emc\/scaleio\/mdm\/cfg\/install.env/);
    assert.ok(existsSync(join(root, "opt/emc/scaleio/mdm/bin/mdm.sh")));
    assert.equal(
      readFileSync(join(root, "opt/emc/scaleio/mdm/cfg/conf.txt"), "utf8"),
      "actor_role_is_manager=1\n",
    );
    assert.equal(statSync(join(root, "opt/emc/scaleio/mdm/cfg/install.env")).mode & 0o777, 0o600);
    assert.equal(existsSync(join(root, "usr/lib/systemd")), false, "nothing written under /usr");
    assert.equal(n.emu.sys.nodes.get(ip)?.packages.get("mdm")?.version, "2.0-6035.0");
    // a rerun changes nothing; the cluster forms on the unpacked MDM
    const again = data<{ changed: boolean }>(
      await step(n, ip, "scaleio.install-package", {
        component: "mdm",
        url: n.rpmUrl("mdm"),
        mdmRole: "manager",
      }),
    );
    assert.equal(again.changed, false);
    data(
      await step(
        n,
        ip,
        "scaleio.mdm-cluster",
        { primary: { ip, name: "mdm1" }, secondaries: [], tiebreakers: [], systemName: "s1" },
        { password: PW },
      ),
    );
    assert.ok(n.emu.sys.created);
    // the emulated OS has no rpm: the emulator's tool says so
    const r = await n.onNode(ip, async () => {
      const { run } = await import("../../../../../src/host/process.js");
      return run("rpm", ["-qa"], { check: false, baseEnv: process.env });
    });
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /rpm: command not found/);

    // removal: the unit stopped and gone, the payload and record gone, the emulator forgets it
    data(
      await step(
        n,
        ip,
        "scaleio.install-package",
        { component: "lia", url: n.rpmUrl("lia") },
        { password: TRICKY },
      ),
    );
    assert.ok(n.emu.sys.nodes.get(ip)?.packages.has("lia"));
    // quoted as systemd reads it: the LIA got the token as it is
    assert.equal(n.emu.sys.nodes.get(ip)?.liaToken, TRICKY);
    const env = readFileSync(join(root, "opt/emc/scaleio/lia/cfg/install.env"), "utf8");
    assert.match(env, /^TOKEN=/m);
    const gone = data<{ removed: string[] }>(
      await step(n, ip, "scaleio.remove-packages", { components: ["lia"] }),
    );
    assert.deepEqual(gone.removed, ["lia"]);
    assert.equal(existsSync(join(root, "etc/systemd/system/lia.service")), false);
    assert.equal(existsSync(join(root, "opt/emc/scaleio/lia/cfg/install.env")), false);
    assert.equal(existsSync(join(root, "opt/emc/scaleio/lia/VERSION")), false);
    assert.equal(
      existsSync(join(root, "var/lib/scaleio-framework/packages/EMC-ScaleIO-lia.json")),
      false,
    );
    assert.equal(n.emu.sys.nodes.get(ip)?.packages.has("lia"), false);
  } finally {
    await n.close();
  }
});

test("SDC kernel compatibility: a driver from the package (RHEL 7), from the repository (Flatcar), or the SDC step fails with the reason and the node's LIA still installs", async () => {
  const n = await startEmuNodes();
  try {
    const mgr = "10.60.0.10";
    await oneNodeCluster(n, mgr);
    const sdc = (ip: string, extra: Record<string, unknown> = {}) =>
      step(n, ip, "scaleio.install-package", {
        component: "sdc",
        url: n.rpmUrl("sdc"),
        mdmIps: [mgr],
        ...extra,
      });

    const rhel = "10.60.0.11";
    prepareEmulatedOs(n.rootOf(rhel), "rhel-7");
    const inPackage = await sdc(rhel);
    data(inPackage);
    assert.ok(
      inPackage.progress.some((m) =>
        /scini driver for kernel 3.10.0-1160.el7.x86_64: .* \(package\)/.test(m),
      ),
    );

    const flatcar = "10.60.0.12";
    prepareEmulatedOs(n.rootOf(flatcar), "flatcar");
    const none = await sdc(flatcar);
    assert.equal(none.result.ok, false);
    assert.match(
      errorOf(none),
      /no scini driver for kernel 5.10.43-flatcar in EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm \(and no --sdc-driver-repo/,
    );
    assert.equal((none.result as { permanent?: boolean }).permanent, true);
    const fromRepo = await sdc(flatcar, { driverRepo: n.emu.driverRepoUrl });
    data(fromRepo);
    assert.ok(
      existsSync(
        join(
          n.rootOf(flatcar),
          "opt/emc/scaleio/sdc/scini_sync/driver_cache/5.10.43-flatcar/scini.tar",
        ),
      ),
    );
    // driver_sync's archive is the SDC start script's to load: the unit does not insmod it
    assert.doesNotMatch(
      readFileSync(join(n.rootOf(flatcar), "etc/systemd/system/scini.service"), "utf8"),
      /insmod/,
    );
    const guid = data<{ sdcGuid?: string }>(await step(n, flatcar, "scaleio.host-facts", {}));
    assert.equal(n.emu.sys.sdcByGuid(guid.sdcGuid!)?.ip, flatcar, "the SDC registered");

    // an upgrade in place needs a driver for the kernel too: from the repository again
    const up = (extra: Record<string, unknown>) =>
      step(n, flatcar, "scaleio.upgrade-sdc", {
        url: n.rpmUrl("sdc", "2.0-13000.211"),
        version: "2.0-13000.211",
        mdmIps: [mgr],
        ...extra,
      });
    assert.match(
      errorOf(await up({})),
      /no scini driver for kernel 5.10.43-flatcar in EMC-ScaleIO-sdc-2.0-13000.211/,
    );
    const upgraded = data<{ version: string; reloaded: boolean }>(
      await up({ driverRepo: n.emu.driverRepoUrl }),
    );
    assert.deepEqual([upgraded.version, upgraded.reloaded], ["2.0-13000.211", true]);
    assert.equal(n.emu.sys.nodes.get(flatcar)?.packages.get("sdc")?.version, "2.0-13000.211");

    const odd = "10.60.0.13";
    prepareEmulatedOs(n.rootOf(odd), "ubuntu-18.04", { kernel: "4.15.0-112-generic" });
    const failed = await step(n, odd, "scaleio.install-package", {
      component: "sdc",
      url: debUrl(n, "sdc"),
      mdmIps: [mgr],
      driverRepo: n.emu.driverRepoUrl,
    });
    assert.equal(failed.result.ok, false);
    assert.ok(
      errorOf(failed).endsWith(
        `: no scini driver for kernel 4.15.0-112-generic in ${n.emu.driverRepoUrl}`,
      ),
      errorOf(failed),
    );
    assert.equal(n.emu.sys.nodes.get(odd)?.packages.has("sdc") ?? false, false, "no SDC");
    // the same node's other components are unaffected
    data(
      await step(
        n,
        odd,
        "scaleio.install-package",
        { component: "lia", url: debUrl(n, "lia") },
        { password: PW },
      ),
    );
    assert.equal(n.emu.sys.nodes.get(odd)?.packages.get("lia")?.version, "2.0-6035.0");
  } finally {
    await n.close();
  }
});

for (const [os, fmt, tool, marker] of [
  ["ubuntu-16.04", "deb", "libaio1", /Created symlink/],
  ["ubuntu-14.04", "deb", "libaio1", /sds start\/running/],
  ["rhel-7", "rpm", "libaio", /Created symlink/],
  ["debian-9", "deb", "libaio1", /Created symlink/],
  ["rhel-6", "rpm", "libaio", /Created symlink|sds start\/running/],
] as [EmulatedOsName, "deb" | "rpm", string, RegExp][]) {
  test(`${os}: prerequisites with its package tool, the SDS from its ${fmt} with its init system's marker`, async () => {
    const n = await startEmuNodes();
    try {
      const ip = "10.60.1.1";
      prepareEmulatedOs(n.rootOf(ip), os);
      const pre = data<{ packages: string[]; packageFormat: string }>(
        await step(n, ip, "scaleio.install-prerequisites", undefined),
      );
      assert.equal(pre.packageFormat, fmt);
      assert.ok(pre.packages.includes(tool));
      const url = fmt === "deb" ? debUrl(n, "sds") : n.rpmUrl("sds");
      const outputs: string[] = [];
      data(
        await step(
          n,
          ip,
          "scaleio.install-package",
          { component: "sds", url },
          {
            run: async (program, args, opts) => {
              const { run } = await import("../../../../../src/host/process.js");
              const r = await run(program, args, opts);
              outputs.push(r.stdout);
              return r;
            },
          },
        ),
      );
      assert.ok(
        outputs.some((o) => marker.test(o)),
        outputs.join("\n"),
      );
      assert.equal(n.emu.sys.nodes.get(ip)?.packages.get("sds")?.flavor, fmt);
    } finally {
      await n.close();
    }
  });
}

test("unpacked units: systemd units under /etc/systemd/system read the install environment; a packaged scini module is loaded first", async () => {
  const { unitFor } = await import("../../../../../src/platforms/scaleio/node/unpacked-install.js");
  const ko = "/opt/emc/scaleio/sdc/scini/4.19.106-coreos/scini.ko";
  const sdc = unitFor("sdc", ko);
  assert.match(sdc, new RegExp(`^ExecStartPre=/usr/sbin/insmod ${ko}$`, "m"));
  assert.match(sdc, /^ExecStart=\/opt\/emc\/scaleio\/sdc\/bin\/scini.sh start$/m);
  assert.match(sdc, /^WantedBy=multi-user.target$/m);
  const lia = unitFor("lia", undefined);
  assert.match(lia, /^EnvironmentFile=-\/opt\/emc\/scaleio\/lia\/cfg\/install.env$/m);
  assert.doesNotMatch(lia, /insmod|\/usr\/lib/);
});
