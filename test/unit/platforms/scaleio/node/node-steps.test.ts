// The other node steps against the emulator's node side: facts and devices, prerequisites,
// SDC with MDM_IP and drv_cfg, LIA with the token, REX-Ray and isolator files compared with
// the documented formats (reference 7.1, 7.2), node check, hostile params.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { parse } from "yaml";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";

const PW = "S3cret-pw";

test("host facts: blank device files are usable, one with a filesystem never is", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.1";
    const dev = join(n.rootOf(ip), "dev");
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, "sdb"), Buffer.alloc(1024 * 1024));
    const ext4 = Buffer.alloc(1024 * 1024);
    ext4.writeUInt16LE(0xef53, 0x438);
    writeFileSync(join(dev, "sdc"), ext4);
    const r = await step(n, ip, "scaleio.install-package", {
      component: "sds",
      url: n.rpmUrl("sds"),
    });
    assert.equal(data(r).changed, true);
    const facts = data<{
      packageFormat: string;
      devices: { path: string; usable: boolean; reason?: string }[];
      installed: Record<string, string>;
    }>(await step(n, ip, "scaleio.host-facts", {}));
    assert.equal(facts.packageFormat, "rpm");
    assert.deepEqual(facts.installed, { sds: "2.0-6035.0" });
    const byPath = Object.fromEntries(facts.devices.map((d) => [d.path, d]));
    assert.equal(byPath["/dev/sdb"]!.usable, true);
    assert.equal(byPath["/dev/sdc"]!.usable, false);
    assert.match(byPath["/dev/sdc"]!.reason!, /ext/);
  } finally {
    await n.close();
  }
});

test("prerequisites, SDC registered through MDM_IP with its GUID, LIA with the token, node check", async () => {
  const n = await startEmuNodes();
  try {
    const mgr = "10.50.0.11";
    const client = "10.50.0.21";
    const pre = data<{ packages: string[] }>(
      await step(n, client, "scaleio.install-prerequisites", undefined),
    );
    assert.deepEqual(pre.packages, ["libaio", "zip", "unzip"]);
    assert.ok(n.emu.sys.nodes.get(client)!.osPackages.has("libaio"));
    await step(n, client, "scaleio.install-prerequisites", { extra: ["java-1.8.0-openjdk"] });
    const bad = await step(n, client, "scaleio.install-prerequisites", { extra: ["zip;reboot"] });
    assert.equal((bad.result as { permanent?: boolean }).permanent, true);

    // a 1_node cluster to register with
    await step(n, mgr, "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    data(
      await step(
        n,
        mgr,
        "scaleio.mdm-cluster",
        { primary: { ip: mgr, name: "mdm1" }, secondaries: [], tiebreakers: [], systemName: "s1" },
        { password: PW },
      ),
    );
    const noIps = await step(n, client, "scaleio.install-package", {
      component: "sdc",
      url: n.rpmUrl("sdc"),
    });
    assert.match((noIps.result as { error: string }).error, /mdmIps: is required for the SDC/);
    const sdc = await step(n, client, "scaleio.install-package", {
      component: "sdc",
      url: n.rpmUrl("sdc"),
      mdmIps: [mgr],
    });
    assert.equal(data(sdc).changed, true);
    const cfg = data<{ sdcGuid: string; mdmIps: string[]; changed: boolean }>(
      await step(n, client, "scaleio.configure-sdc", { mdmIps: [mgr] }),
    );
    assert.match(cfg.sdcGuid, /^[0-9A-F-]{36}$/);
    assert.deepEqual(cfg.mdmIps, [mgr]);
    assert.equal(cfg.changed, false);
    assert.equal(n.emu.sys.sdcByGuid(cfg.sdcGuid)?.ip, client, "registered with the emulator");

    const lia = await step(
      n,
      client,
      "scaleio.install-package",
      { component: "lia", url: n.rpmUrl("lia") },
      { password: PW },
    );
    assert.equal(data(lia).changed, true);
    assert.equal(lia.secretFetches, 1);
    const liaNoToken = await step(n, "10.50.0.99", "scaleio.install-package", {
      component: "lia",
      url: n.rpmUrl("lia"),
    });
    assert.match((liaNoToken.result as { error: string }).error, /no secret token/);

    const check = data<{ healthy: boolean; components: Record<string, { running?: boolean }> }>(
      await step(n, client, "scaleio.check-node", { components: ["sdc", "lia"] }),
    );
    assert.equal(check.healthy, true);
    assert.equal(check.components.sdc!.running, true);
    const missing = data<{ healthy: boolean }>(
      await step(n, client, "scaleio.check-node", { components: ["sds"] }),
    );
    assert.equal(missing.healthy, false);
    const facts = data<{ sdcGuid?: string }>(await step(n, client, "scaleio.host-facts", {}));
    assert.equal(facts.sdcGuid, cfg.sdcGuid);
  } finally {
    await n.close();
  }
});

test("package URLs and versions are checked before anything runs", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.31";
    const cases: [unknown, RegExp][] = [
      [{ component: "sds", url: "http://127.0.0.1:1/x;reboot" }, /plain file name/],
      [{ component: "sds", url: "$(reboot)" }, /not a URL/],
      [{ component: "sds", url: n.rpmUrl("sdc") }, /is the sdc package, not sds/],
      [
        { component: "sds", url: n.rpmUrl("sds").replace(/rpm$/, "deb") },
        /not a ScaleIO package|deb package/,
      ],
      [{ component: "sds", url: n.rpmUrl("sds"), version: "2.0-13000.211" }, /does not match/],
      [{ component: "sds", url: n.rpmUrl("sds"), mdmRole: "manager" }, /only for the MDM/],
      [{ component: "nope", url: n.rpmUrl("sds") }, /component/],
    ];
    for (const [params, re] of cases) {
      const r = await step(n, ip, "scaleio.install-package", params);
      assert.equal(r.result.ok, false, JSON.stringify(params));
      assert.match((r.result as { error: string }).error, re);
      assert.equal((r.result as { permanent?: boolean }).permanent, true);
    }
    assert.equal(n.emu.sys.nodes.get(ip)?.packages.size ?? 0, 0, "nothing installed");
    // an upgrade is a change; a downgrade request is not done
    data(await step(n, ip, "scaleio.install-package", { component: "sds", url: n.rpmUrl("sds") }));
    const up = data<{ previousVersion: string; version: string }>(
      await step(n, ip, "scaleio.install-package", {
        component: "sds",
        url: n.rpmUrl("sds", "2.0-13000.211"),
      }),
    );
    assert.deepEqual([up.previousVersion, up.version], ["2.0-6035.0", "2.0-13000.211"]);
    const down = data<{ changed: boolean }>(
      await step(n, ip, "scaleio.install-package", { component: "sds", url: n.rpmUrl("sds") }),
    );
    assert.equal(down.changed, false);
  } finally {
    await n.close();
  }
});

test("SDS and LIA in one step: both installed in order, LIA with the token; a rerun changes nothing; bad lists refused", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.7";
    const packages = [
      { component: "sds", url: n.rpmUrl("sds") },
      { component: "lia", url: n.rpmUrl("lia") },
    ];
    const first = await step(n, ip, "scaleio.install-packages", { packages }, { password: PW });
    const done = data<{ component: string; changed: boolean }[]>(first);
    assert.deepEqual(
      done.map((r) => [r.component, r.changed]),
      [
        ["sds", true],
        ["lia", true],
      ],
    );
    assert.deepEqual([...(n.emu.sys.nodes.get(ip)?.packages.keys() ?? [])].sort(), ["lia", "sds"]);
    const again = data<{ changed: boolean }[]>(
      await step(n, ip, "scaleio.install-packages", { packages }, { password: PW }),
    );
    assert.deepEqual(
      again.map((r) => r.changed),
      [false, false],
    );
    for (const bad of [{ packages: [] }, { packages: [packages[0], packages[0]] }]) {
      const r = await step(n, "10.50.0.8", "scaleio.install-packages", bad, { password: PW });
      assert.equal((r.result as { permanent?: boolean }).permanent, true, JSON.stringify(bad));
    }
    assert.equal(n.emu.sys.nodes.get("10.50.0.8")?.packages.size ?? 0, 0, "nothing installed");
  } finally {
    await n.close();
  }
});

test("REX-Ray config.yml has the documented keys and types, mode 0600, and is rewritten only on change", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.41";
    const params = {
      endpoint: "https://10.50.0.11/api",
      systemName: "scaleio",
      protectionDomain: "default",
      storagePool: "default",
      thinOrThick: "ThinProvisioned",
      insecure: true,
    };
    const r = await step(n, ip, "scaleio.rexray-config", params, { password: PW });
    assert.deepEqual(data(r), { path: "/etc/rexray/config.yml", changed: true });
    const file = join(n.rootOf(ip), "etc/rexray/config.yml");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const doc = parse(readFileSync(file, "utf8"));
    // reference 7.1, key by key
    assert.deepEqual(doc.scaleio, {
      endpoint: "https://10.50.0.11/api",
      insecure: true,
      thinOrThick: "ThinProvisioned",
      userName: "admin",
      password: PW,
      systemName: "scaleio",
      protectionDomainName: "default",
      storagePoolName: "default",
    });
    assert.deepEqual(doc.libstorage, {
      service: "scaleio",
      integration: { volume: { operations: { mount: { preempt: true } } } },
    });
    assert.equal(doc.rexray.logLevel, "warn");
    assert.deepEqual(doc.rexray.modules["default-docker"], {
      type: "docker",
      host: "unix:///run/docker/plugins/docker.sock",
      libstorage: { service: "scaleio" },
    });
    assert.deepEqual(doc.rexray.modules.mesos, {
      type: "docker",
      host: "unix:///run/docker/plugins/mesos.sock",
      libstorage: {
        service: "scaleio",
        integration: { volume: { operations: { unmount: { ignoreUsedCount: true } } } },
      },
    });
    const again = await step(n, ip, "scaleio.rexray-config", params, { password: PW });
    assert.equal(data(again).changed, false);
    for (const bad of [
      { ...params, systemName: "a`reboot`" },
      { ...params, endpoint: "file:///etc/passwd" },
      { ...params, thinOrThick: "thin" },
    ]) {
      const b = await step(n, ip, "scaleio.rexray-config", bad, { password: PW });
      assert.equal((b.result as { permanent?: boolean }).permanent, true);
      assert.equal(b.secretFetches, 0, "no secret fetched for bad params");
    }
  } finally {
    await n.close();
  }
});

test("isolator files follow reference 7.2; isolation is prepended once; the agent is never restarted", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.51";
    const root = n.rootOf(ip);
    mkdirSync(join(root, "etc/mesos-slave"), { recursive: true });
    writeFileSync(join(root, "etc/mesos-slave/isolation"), "cgroups/cpu,cgroups/mem\n");
    const params = { isolatorPath: "/usr/lib/libmesos_dvdi_isolator-1.1.0.so" };
    const r = data<{ changed: string[]; agentFlags: string[]; agentRestartRequired: boolean }>(
      await step(n, ip, "scaleio.isolator-config", params),
    );
    assert.deepEqual(JSON.parse(readFileSync(join(root, "usr/lib/dvdi-mod.json"), "utf8")), {
      libraries: [
        {
          file: "/usr/lib/libmesos_dvdi_isolator-1.1.0.so",
          modules: [
            {
              name: "com_emccode_mesos_DockerVolumeDriverIsolator",
              parameters: [{ key: "isolator_command", value: "/emc/dvdi_isolator" }],
            },
          ],
        },
      ],
    });
    assert.equal(
      readFileSync(join(root, "etc/mesos-slave/modules"), "utf8"),
      "file:///usr/lib/dvdi-mod.json\n",
    );
    const isolation = "com_emccode_mesos_DockerVolumeDriverIsolator,cgroups/cpu,cgroups/mem";
    assert.equal(readFileSync(join(root, "etc/mesos-slave/isolation"), "utf8"), `${isolation}\n`);
    assert.deepEqual(r.agentFlags, [
      "--modules=file:///usr/lib/dvdi-mod.json",
      `--isolation=${isolation}`,
    ]);
    assert.equal(r.agentRestartRequired, true);
    const again = data<{ changed: string[]; agentRestartRequired: boolean }>(
      await step(n, ip, "scaleio.isolator-config", params),
    );
    assert.deepEqual(again.changed, []);
    assert.equal(again.agentRestartRequired, false);
    assert.equal(readFileSync(join(root, "etc/mesos-slave/isolation"), "utf8"), `${isolation}\n`);
    const bad = await step(n, ip, "scaleio.isolator-config", {
      isolatorPath: "/usr/lib/x.so;reboot",
    });
    assert.equal((bad.result as { permanent?: boolean }).permanent, true);
  } finally {
    await n.close();
  }
});

test("module isolator from --isolator-binary: the library is fetched, installed under /usr/lib once, and named in the modules file", async () => {
  const n = await startEmuNodes();
  const src = mkdtempSync(join(tmpdir(), "dvdi-"));
  try {
    const ip = "10.50.0.53";
    const root = n.rootOf(ip);
    const lib = join(src, "libmesos_dvdi_isolator-1.1.0.so");
    writeFileSync(lib, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
    const params = { isolatorUrl: pathToFileURL(lib).href };
    const r = data<{ changed: string[] }>(await step(n, ip, "scaleio.isolator-config", params));
    const installed = join(root, "usr/lib/libmesos_dvdi_isolator-1.1.0.so");
    assert.deepEqual(readFileSync(installed), readFileSync(lib));
    assert.equal(statSync(installed).mode & 0o777, 0o755);
    assert.ok(r.changed.includes("/usr/lib/libmesos_dvdi_isolator-1.1.0.so"));
    const doc = JSON.parse(readFileSync(join(root, "usr/lib/dvdi-mod.json"), "utf8")) as {
      libraries: { file: string }[];
    };
    assert.equal(doc.libraries[0]!.file, "/usr/lib/libmesos_dvdi_isolator-1.1.0.so");
    const again = data<{ changed: string[] }>(await step(n, ip, "scaleio.isolator-config", params));
    assert.deepEqual(again.changed, []);
    // Not a library, or nothing there: a permanent error that says so, nothing written.
    const txt = join(src, "isolator.txt");
    writeFileSync(txt, "x");
    const notSo = await step(n, ip, "scaleio.isolator-config", {
      isolatorUrl: pathToFileURL(txt).href,
    });
    assert.equal((notSo.result as { permanent?: boolean }).permanent, true);
    assert.match((notSo.result as { error: string }).error, /not a \.so library/);
    const missing = await step(n, ip, "scaleio.isolator-config", {
      isolatorUrl: pathToFileURL(join(src, "gone-1.0.so")).href,
    });
    assert.equal(missing.result && (missing.result as { ok?: boolean }).ok, false);
  } finally {
    rmSync(src, { recursive: true, force: true });
    await n.close();
  }
});

test("docker/volume mode (reference 7.3): filesystem/linux and docker/volume added once to --isolation; dvdcli looked for", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.52";
    const root = n.rootOf(ip);
    mkdirSync(join(root, "etc/mesos-slave"), { recursive: true });
    writeFileSync(join(root, "etc/mesos-slave/isolation"), "cgroups/cpu,filesystem/linux\n");
    type R = {
      mode: string;
      changed: string[];
      dvdcliPresent: boolean;
      agentFlags: string[];
      agentRestartRequired: boolean;
    };
    const r = data<R>(await step(n, ip, "scaleio.isolator-config", { mode: "docker-volume" }));
    const isolation = "cgroups/cpu,filesystem/linux,docker/volume";
    assert.deepEqual(r, {
      mode: "docker-volume",
      changed: ["/etc/mesos-slave/isolation"],
      dvdcliPresent: false,
      agentFlags: [`--isolation=${isolation}`],
      agentRestartRequired: true,
    });
    assert.equal(readFileSync(join(root, "etc/mesos-slave/isolation"), "utf8"), `${isolation}\n`);
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "usr/bin/dvdcli"), "");
    const again = data<R>(await step(n, ip, "scaleio.isolator-config", { mode: "docker-volume" }));
    assert.deepEqual(again.changed, []);
    assert.equal(again.agentRestartRequired, false);
    assert.equal(again.dvdcliPresent, true);
    // The module mode still needs its library.
    const bad = await step(n, ip, "scaleio.isolator-config", { mode: "module" });
    assert.equal((bad.result as { permanent?: boolean }).permanent, true);
    assert.match((bad.result as { error: string }).error, /isolatorPath/);
  } finally {
    await n.close();
  }
});

test("unknown kinds are permanent failures naming what this executor runs", async () => {
  const n = await startEmuNodes();
  try {
    const r = await step(n, "10.50.0.61", "scaleio.reboot", {});
    assert.equal((r.result as { permanent?: boolean }).permanent, true);
    assert.match((r.result as { error: string }).error, /unknown step kind 'scaleio.reboot'/);
  } finally {
    await n.close();
  }
});

test("a Debian node (found by /etc/debian_version): apt-get, dpkg and the upstart markers; gateway with its password", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.71";
    mkdirSync(join(n.rootOf(ip), "etc"), { recursive: true });
    writeFileSync(join(n.rootOf(ip), "etc/debian_version"), "8.11\n");
    const deb = (c: string) => `${n.emu.controlUrl}/repo/emc-scaleio-${c}_2.0-6035.0_amd64.deb`;
    const pre = data<{ packageFormat: string; packages: string[] }>(
      await step(n, ip, "scaleio.install-prerequisites", {}),
    );
    assert.deepEqual(pre, { packageFormat: "deb", packages: ["libaio1", "zip"] });
    const rpmOnDeb = await step(n, ip, "scaleio.install-package", {
      component: "sds",
      url: n.rpmUrl("sds"),
    });
    assert.match((rpmOnDeb.result as { error: string }).error, /rpm package; this host uses deb/);
    data(
      await step(n, ip, "scaleio.install-package", {
        component: "mdm",
        url: deb("mdm"),
        mdmRole: "manager",
      }),
    );
    data(
      await step(
        n,
        ip,
        "scaleio.mdm-cluster",
        { primary: { ip, name: "mdm1" }, secondaries: [], tiebreakers: [], systemName: "deb1" },
        { password: PW },
      ),
    );
    data(
      await step(n, ip, "scaleio.install-package", {
        component: "sdc",
        url: deb("sdc"),
        mdmIps: [ip],
      }),
    );
    const gw = await step(
      n,
      ip,
      "scaleio.install-package",
      { component: "gateway", url: deb("gateway") },
      { password: PW },
    );
    assert.equal(data(gw).changed, true);
    assert.equal(gw.secretFetches, 1);
    const facts = data<{ installed: Record<string, string>; sdcGuid?: string }>(
      await step(n, ip, "scaleio.host-facts", {}),
    );
    assert.deepEqual(Object.keys(facts.installed).sort(), ["gateway", "mdm", "sdc"]);
    assert.match(facts.sdcGuid ?? "", /^[0-9A-F-]{36}$/);
  } finally {
    await n.close();
  }
});
