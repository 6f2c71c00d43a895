// scaleio.rexray-install on an emulated node (dev host profile, the emulator's tools): REX-Ray
// and dvdcli from their download tarballs, REX-Ray's service written for the node's init
// system and started, and the step done only once REX-Ray lists the cluster's volumes through
// the ScaleIO driver with the configuration scaleio.rexray-config wrote. Also the service
// writer for upstart and SysV hosts, and the tarball reader.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";
import {
  dvdcliTarballName,
  rexrayTarballName,
  tarGz,
  writeVolumeDriverPackages,
} from "../../../../../sim/scaleio/volume-driver/packages.js";
import { programFromTarGz } from "../../../../../src/platforms/scaleio/node/rexray-archive.js";
import { binDirOf } from "../../../../../src/platforms/scaleio/node/rexray-install.js";
import {
  stopAndRemoveService,
  writeAndStartService,
  type ServiceSpec,
} from "../../../../../src/platforms/scaleio/node/rexray-service.js";
import type { StepContext } from "../../../../../src/framework/node-task/handler.js";
import type { HostProfile } from "../../../../../src/host/profile.js";
import { HostRoot } from "../../../../../src/host/files.js";
import type { RunResult } from "../../../../../src/host/process.js";
import { prepareEmulatedOs } from "../../../../../sim/mesos/emulated-os.js";

const PW = "S3cret-pw";

interface Installed {
  rexray: { path: string; changed: boolean; version?: string; from: string };
  dvdcli?: { path: string; changed: boolean };
  service: { init: string; path: string; changed: boolean; active: boolean };
  volumes: string[];
}

test("REX-Ray and dvdcli installed from their tarballs, REX-Ray's service started, volumes listed through the driver", async () => {
  const n = await startEmuNodes();
  try {
    const boot = await fetch(`${n.emu.controlUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PW }),
    });
    assert.equal(boot.status, 200);
    writeVolumeDriverPackages(n.emu.repoDir);
    const ip = "10.20.0.70";
    data(
      await step(n, ip, "scaleio.install-package", {
        component: "sdc",
        url: n.rpmUrl("sdc"),
        mdmIps: ["10.20.0.11", "10.20.0.12"],
      }),
    );
    const params = {
      rexrayUrl: `${n.emu.controlUrl}/repo/${rexrayTarballName()}`,
      dvdcliUrl: `${n.emu.controlUrl}/repo/${dvdcliTarballName()}`,
    };
    // Without REX-Ray's configuration there is nothing to prove with: it says so.
    const early = await step(n, ip, "scaleio.rexray-install", params);
    assert.equal(early.result.ok, false);
    assert.match((early.result as { error: string }).error, /config\.yml is missing/);

    const config = {
      endpoint: `${n.emu.gatewayUrl}/api`,
      systemName: "scaleio",
      protectionDomain: "default",
      storagePool: "default",
    };
    data(await step(n, ip, "scaleio.rexray-config", config, { password: PW }));
    // A volume the cluster already has: REX-Ray must list it.
    const token = (await (
      await fetch(`${n.emu.gatewayUrl}/api/login`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${PW}`).toString("base64")}` },
      })
    ).json()) as string;
    const auth = { authorization: `Basic ${Buffer.from(`:${token}`).toString("base64")}` };
    const pools = (await (
      await fetch(`${n.emu.gatewayUrl}/api/types/StoragePool/instances`, { headers: auth })
    ).json()) as { id: string }[];
    const made = await fetch(`${n.emu.gatewayUrl}/api/types/Volume/instances`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        name: "pgdata",
        volumeSizeInKb: "8388608",
        storagePoolId: pools[0]!.id,
      }),
    });
    assert.equal(made.status, 200, await made.clone().text());

    const first = await step(n, ip, "scaleio.rexray-install", params);
    const r = data<Installed>(first);
    assert.deepEqual(
      [r.rexray.path, r.rexray.changed, r.rexray.version, r.rexray.from],
      ["/usr/bin/rexray", true, "0.11.4", rexrayTarballName()],
    );
    assert.deepEqual([r.dvdcli?.path, r.dvdcli?.changed], ["/usr/bin/dvdcli", true]);
    assert.deepEqual(r.service, {
      init: "systemd",
      path: "/etc/systemd/system/rexray.service",
      changed: true,
      active: true,
    });
    assert.deepEqual(r.volumes, ["pgdata"]);
    const root = n.rootOf(ip);
    assert.equal(statSync(join(root, "usr/bin/rexray")).mode & 0o777, 0o755);
    assert.match(
      readFileSync(join(root, "etc/systemd/system/rexray.service"), "utf8"),
      /^ExecStart=\/usr\/bin\/rexray start -f$/m,
    );
    assert.ok(first.progress.some((m) => /listing volumes through REX-Ray/.test(m)));
    // The service is what the node's init system says is running.
    const active = n.emu.tools.run("systemctl", { ip, root, env: {} }, ["is-active", "rexray"]);
    assert.equal(active.stdout, "active\n");

    // Again: nothing to change, still proven.
    const again = data<Installed>(await step(n, ip, "scaleio.rexray-install", params));
    assert.deepEqual(
      [again.rexray.changed, again.dvdcli?.changed, again.service.changed],
      [false, false, false],
    );
    assert.deepEqual(again.volumes, ["pgdata"]);

    // The isolator finds dvdcli where the install put it.
    const iso = data<{ dvdcliPresent: boolean }>(
      await step(n, ip, "scaleio.isolator-config", { mode: "docker-volume" }),
    );
    assert.equal(iso.dvdcliPresent, true);

    // A driver that cannot reach the cluster fails the step (retryable), with the reason and
    // never the password.
    data(await step(n, ip, "scaleio.rexray-config", config, { password: "Wrong-pw-1" }));
    const denied = await step(n, ip, "scaleio.rexray-install", params);
    assert.equal(denied.result.ok, false);
    const err = denied.result as { error: string; permanent?: boolean };
    assert.match(
      err.error,
      /REX-Ray cannot list the cluster's volumes through its ScaleIO driver: .*401/,
    );
    assert.ok(!err.permanent);
    assert.ok(!err.error.includes("Wrong-pw-1"));
  } finally {
    await n.close();
  }
});

test("a download that is not REX-Ray's fails for good, naming the file", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.20.0.71";
    writeFileSyncIn(n.emu.repoDir, "tools-1.0.tar.gz", tarGz([{ name: "other", content: "x" }]));
    writeFileSyncIn(n.emu.repoDir, "rexray-1.0.zip", Buffer.from("zip"));
    data(
      await step(
        n,
        ip,
        "scaleio.rexray-config",
        {
          endpoint: "http://127.0.0.1:9/api",
          systemName: "s",
          protectionDomain: "default",
          storagePool: "default",
        },
        { password: PW },
      ),
    );
    for (const [file, why] of [
      ["tools-1.0.tar.gz", /tools-1\.0\.tar\.gz holds no file named rexray/],
      [
        "rexray-1.0.zip",
        /rexray-1\.0\.zip is neither a \.tar\.gz, a \.rpm\/\.deb nor the rexray program/,
      ],
    ] as const) {
      const r = await step(n, ip, "scaleio.rexray-install", {
        rexrayUrl: `${n.emu.controlUrl}/repo/${file}`,
      });
      assert.equal(r.result.ok, false, file);
      assert.match((r.result as { error: string }).error, why);
      assert.equal(
        (r.result as { permanent?: boolean }).permanent,
        true,
        `${file}: ${(r.result as { error: string }).error}`,
      );
    }
    // A download the server cannot give is retried (the emulator's repository answers 500).
    const missing = await step(n, ip, "scaleio.rexray-install", {
      rexrayUrl: `${n.emu.controlUrl}/repo/missing.tar.gz`,
    });
    assert.match((missing.result as { error: string }).error, /missing\.tar\.gz: HTTP 500/);
    assert.ok(!existsSync(join(n.rootOf(ip), "usr/bin/rexray")));
    const bad = await step(n, ip, "scaleio.rexray-install", { rexrayUrl: "ftp://x/rexray" });
    assert.match(
      (bad.result as { error: string }).error,
      /rexrayUrl: must be an http\(s\) or file URL/,
    );
  } finally {
    await n.close();
  }
});

function writeFileSyncIn(dir: string, name: string, bytes: Buffer): void {
  writeFileSync(join(dir, name), bytes);
}

/** A step context on a temporary root whose init system is `init`; commands are recorded. */
function serviceHost(
  init: "upstart" | "sysv" | "systemd",
  answer: (program: string, args: string[]) => Partial<RunResult>,
  format: "rpm" | "deb" = "rpm",
) {
  const dir = mkdtempSync(join(tmpdir(), "rexray-service-"));
  const calls: string[] = [];
  const serviceDir = { systemd: "/etc/systemd/system", upstart: "/etc/init", sysv: "/etc/init.d" }[
    init
  ];
  const host = {
    root: new HostRoot(dir),
    os: { init, serviceDir, readOnly: [], packages: { format } },
    run: async (program: string, args: string[]) => {
      calls.push([program, ...args].join(" "));
      return {
        exitCode: 0,
        signal: null,
        stdout: "",
        stderr: "",
        truncated: false,
        durationMs: 1,
        ...answer(program, args),
      };
    },
  } as unknown as HostProfile;
  const ctx: StepContext = {
    host,
    secrets: () => Promise.reject(new Error("no secrets here")),
    progress: () => undefined,
    signal: new AbortController().signal,
  };
  return { dir, calls, ctx, close: () => rmSync(dir, { recursive: true, force: true }) };
}

const SPEC: ServiceSpec = {
  name: "rexray",
  description: "REX-Ray",
  foreground: ["/usr/bin/rexray", "start", "-f"],
  sysv: {
    start: ["/usr/bin/rexray", "start"],
    stop: ["/usr/bin/rexray", "stop"],
    status: ["/usr/bin/rexray", "status"],
  },
};

test("an upstart host gets a job in /etc/init, started (not restarted) while it is stopped", async () => {
  let running = false;
  const h = serviceHost("upstart", (_p, args) => {
    if (args[1] === "start") running = true;
    if (args[1] === "status")
      return { stdout: running ? "rexray start/running, process 9\n" : "rexray stop/waiting\n" };
    return {};
  });
  try {
    const r = await writeAndStartService(h.ctx, SPEC);
    assert.deepEqual(r, {
      init: "upstart",
      path: "/etc/init/rexray.conf",
      changed: true,
      active: true,
    });
    const job = readFileSync(join(h.dir, "etc/init/rexray.conf"), "utf8");
    assert.match(job, /^exec \/usr\/bin\/rexray start -f$/m);
    assert.match(job, /^respawn$/m);
    assert.deepEqual(h.calls, [
      "service rexray status",
      "service rexray start",
      "service rexray status",
    ]);
    h.calls.length = 0;
    // Running and unchanged: left alone; a new program: restarted.
    assert.equal((await writeAndStartService(h.ctx, SPEC)).changed, false);
    assert.deepEqual(h.calls, ["service rexray status", "service rexray status"]);
    h.calls.length = 0;
    await writeAndStartService(h.ctx, SPEC, { restart: true });
    assert.deepEqual(h.calls, [
      "service rexray status",
      "service rexray restart",
      "service rexray status",
    ]);
  } finally {
    h.close();
  }
});

test("a SysV host gets an init script; a service that does not come up fails the step", async () => {
  const h = serviceHost("sysv", (_p, args) => (args[1] === "status" ? { exitCode: 3 } : {}));
  try {
    await assert.rejects(
      writeAndStartService(h.ctx, SPEC),
      /service rexray \(sysv\) is not running after it was started/,
    );
    const script = join(h.dir, "etc/init.d/rexray");
    assert.equal(statSync(script).mode & 0o777, 0o755);
    const text = readFileSync(script, "utf8");
    assert.match(text, /^# Provides: +rexray$/m);
    assert.match(text, /^ {2}start\) exec \/usr\/bin\/rexray start ;;$/m);
    assert.deepEqual(h.calls, [
      "chkconfig --add rexray",
      "chkconfig rexray on",
      "service rexray restart",
      "service rexray status",
    ]);
  } finally {
    h.close();
  }
});

test("a SysV script is enabled at boot (chkconfig on RHEL 6, update-rc.d on Debian-likes) and disabled on removal", async () => {
  for (const [format, enable, disable] of [
    ["rpm", ["chkconfig --add rexray", "chkconfig rexray on"], ["chkconfig --del rexray"]],
    ["deb", ["update-rc.d rexray defaults"], ["update-rc.d -f rexray remove"]],
  ] as const) {
    let running = false;
    const h = serviceHost(
      "sysv",
      (_p, args) => {
        if (args[1] === "restart" || args[1] === "start") running = true;
        if (args[1] === "stop") running = false;
        return args[1] === "status" ? { exitCode: running ? 0 : 3 } : {};
      },
      format,
    );
    try {
      await writeAndStartService(h.ctx, SPEC);
      assert.deepEqual(h.calls, [...enable, "service rexray restart", "service rexray status"]);
      h.calls.length = 0;
      // Unchanged and running: still enabled (a rerun repairs a script disabled by hand).
      await writeAndStartService(h.ctx, SPEC);
      assert.deepEqual(h.calls, [...enable, "service rexray status", "service rexray status"]);
      h.calls.length = 0;
      assert.equal(await stopAndRemoveService(h.ctx, "rexray"), "/etc/init.d/rexray");
      assert.deepEqual(h.calls, [
        "service rexray status",
        "service rexray stop",
        "service rexray status",
        ...disable,
      ]);
    } finally {
      h.close();
    }
  }
});

test("a systemd host: a unit that fails to start names the command and its words", async () => {
  const h = serviceHost("systemd", (_p, args) =>
    args[0] === "restart" ? { exitCode: 1, stderr: "Job for rexray.service failed.\n" } : {},
  );
  try {
    await assert.rejects(
      writeAndStartService(h.ctx, SPEC),
      /systemctl restart rexray: exit 1: Job for rexray\.service failed\./,
    );
    assert.deepEqual(h.calls, [
      "systemctl daemon-reload",
      "systemctl enable rexray",
      "systemctl restart rexray",
    ]);
    await assert.rejects(
      writeAndStartService(h.ctx, { ...SPEC, foreground: ["/usr/bin/rexray", "start; reboot"] }),
      /needs quoting/,
    );
  } finally {
    h.close();
  }
});

test("the tarball reader finds the program in a folder of the archive; /opt/bin where /usr is read-only", () => {
  const archive = tarGz([
    { name: "README", content: "hello" },
    { name: "rexray-0.11.4/rexray", content: "#!/bin/sh\necho rexray\n", mode: 0o755 },
  ]);
  assert.equal(programFromTarGz(archive, "rexray")?.toString(), "#!/bin/sh\necho rexray\n");
  assert.equal(programFromTarGz(archive, "dvdcli"), undefined);
  assert.throws(() => programFromTarGz(gzipSync(Buffer.from("not a tar")), "rexray"));
  assert.equal(binDirOf(["/usr"]), "/opt/bin");
  assert.equal(binDirOf([]), "/usr/bin");
});

test("uninstall: an upstart job is stopped and removed; a unit someone else wrote is left alone; one that will not stop fails the step and stays", async () => {
  let running = false;
  const h = serviceHost("upstart", (_p, args) => {
    if (args[1] === "start") running = true;
    if (args[1] === "stop") running = false;
    if (args[1] === "status")
      return { stdout: running ? "rexray start/running, process 9\n" : "rexray stop/waiting\n" };
    return {};
  });
  try {
    await writeAndStartService(h.ctx, SPEC);
    h.calls.length = 0;
    assert.equal(await stopAndRemoveService(h.ctx, "rexray"), "/etc/init/rexray.conf");
    assert.deepEqual(h.calls, [
      "service rexray status",
      "service rexray stop",
      "service rexray status",
    ]);
    assert.ok(!existsSync(join(h.dir, "etc/init/rexray.conf")));
    h.calls.length = 0;
    assert.equal(await stopAndRemoveService(h.ctx, "rexray"), undefined);
    assert.deepEqual(h.calls, []);

    // The operator's own job of that name: not ours, not touched.
    writeFileSync(join(h.dir, "etc/init/rexray.conf"), "exec /usr/local/bin/rexray start -f\n");
    assert.equal(await stopAndRemoveService(h.ctx, "rexray"), undefined);
    assert.ok(existsSync(join(h.dir, "etc/init/rexray.conf")));
    assert.deepEqual(h.calls, []);
  } finally {
    h.close();
  }
  const stuck = serviceHost("systemd", () => ({}));
  try {
    await writeAndStartService(stuck.ctx, SPEC);
    await assert.rejects(
      stopAndRemoveService(stuck.ctx, "rexray"),
      /service rexray \(systemd\) is still running after it was stopped/,
    );
    assert.ok(existsSync(join(stuck.dir, "etc/systemd/system/rexray.service")));
  } finally {
    stuck.close();
  }
});

test("on an emulated RHEL 6 node REX-Ray's init script is enabled at boot (runlevel links) and unlinked when REX-Ray is removed; update-rc.d does likewise on Debian-likes", async () => {
  const n = await startEmuNodes();
  try {
    const boot = await fetch(`${n.emu.controlUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PW }),
    });
    assert.equal(boot.status, 200);
    writeVolumeDriverPackages(n.emu.repoDir);
    const ip = "10.20.0.72";
    let root = n.rootOf(ip);
    prepareEmulatedOs(root, "rhel-6");
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
    const r = data<Installed>(
      await step(n, ip, "scaleio.rexray-install", {
        rexrayUrl: `${n.emu.controlUrl}/repo/${rexrayTarballName()}`,
      }),
    );
    assert.deepEqual([r.service.init, r.service.path], ["sysv", "/etc/init.d/rexray"]);
    const links = (style: "rhel" | "debian") =>
      [0, 1, 2, 3, 4, 5, 6].flatMap((lv) => {
        const dir = join(root, style === "rhel" ? `etc/rc.d/rc${lv}.d` : `etc/rc${lv}.d`);
        return existsSync(dir)
          ? readdirSync(dir)
              .filter((f) => f.endsWith("rexray"))
              .map((f) => `${lv}:${f}->${readlinkSync(join(dir, f))}`)
          : [];
      });
    assert.deepEqual(links("rhel"), [
      "0:K05rexray->../init.d/rexray",
      "1:K05rexray->../init.d/rexray",
      "2:S95rexray->../init.d/rexray",
      "3:S95rexray->../init.d/rexray",
      "4:S95rexray->../init.d/rexray",
      "5:S95rexray->../init.d/rexray",
      "6:K05rexray->../init.d/rexray",
    ]);
    const ctx = { ip, root, env: {} };
    assert.equal(n.emu.tools.run("chkconfig", ctx, ["rexray"]).exitCode, 0);

    const removed = data<{ removed: string[] }>(
      await step(n, ip, "scaleio.remove-consumer-config", { rexray: true }),
    );
    assert.deepEqual(removed.removed, [
      "/etc/init.d/rexray",
      "/usr/bin/rexray",
      "/etc/rexray/config.yml",
    ]);
    assert.deepEqual(links("rhel"), []);

    // RHEL 6 has no update-rc.d; a Debian-like node has: links under /etc/rc<N>.d, removed
    // with -f.
    assert.equal(n.emu.tools.run("update-rc.d", ctx, ["rexray", "defaults"]).exitCode, 127);
    const debRoot = n.rootOf("10.20.0.73");
    prepareEmulatedOs(debRoot, "debian-9");
    root = debRoot;
    const debCtx = { ip: "10.20.0.73", root: debRoot, env: {} };
    mkdirSync(join(root, "etc/init.d"), { recursive: true });
    writeFileSync(join(root, "etc/init.d/rexray"), "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(n.emu.tools.run("update-rc.d", debCtx, ["rexray", "defaults"]).exitCode, 0);
    assert.equal(links("debian").filter((l) => l.includes(":S95")).length, 4);
    assert.match(
      n.emu.tools.run("update-rc.d", debCtx, ["rexray", "remove"]).stderr,
      /exists during rc\.d purge \(use -f to force\)/,
    );
    assert.equal(n.emu.tools.run("update-rc.d", debCtx, ["-f", "rexray", "remove"]).exitCode, 0);
    assert.deepEqual(links("debian"), []);
  } finally {
    await n.close();
  }
});
