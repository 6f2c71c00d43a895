// The emulator's `rexray` and `dvdcli` stand-ins as an agent runs them: programs taken from the
// emulator's download tarballs, reading /etc/rexray/config.yml under the node's root and
// talking to the emulated gateway over HTTPS (its CA as the machine's trust store). Volumes
// are listed, created, attached to the node's own SDC (the device appears under the node's
// /dev/disk/by-id), and taken over from another node only when preempt allows it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simBinDir } from "../../../sim/scaleio/node/packages.js";
import {
  dvdcliTarballName,
  rexrayTarballName,
  writeVolumeDriverPackages,
} from "../../../sim/scaleio/volume-driver/packages.js";
import { programFromTarGz } from "../../../src/platforms/scaleio/node/rexray-archive.js";
import { rexrayDocument } from "../../../src/platforms/scaleio/node/rexray-config.js";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

type Vol = { id: string; name: string; status: string; deviceName?: string };

/** The first bytes of a (large, sparse) device file. */
function head(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0)).toString();
  } finally {
    closeSync(fd);
  }
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, NODE_OPTIONS: "", ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test("rexray and dvdcli stand-ins: ls, create, attach to this node's SDC, preempt, mount", async () => {
  const t = await startTestEmu({ https: true, bootstrap: false });
  const roots = mkdtempSync(join(tmpdir(), "scaleio-rexray-"));
  try {
    const boot = await fetch(`${t.emu.controlUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(boot.status, 200);
    const names = writeVolumeDriverPackages(t.emu.repoDir, t.emu.caFile);
    assert.deepEqual(names, [rexrayTarballName(), dvdcliTarballName()]);

    // Two agents, each with its SDC, REX-Ray's configuration and the programs from the tarballs.
    const node = (ip: string, preempt = true) => {
      const root = join(roots, ip);
      const sdc = join(t.emu.repoDir, "EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm");
      const r = onNode(t.emu, ip, "rpm", ["-Uvh", sdc], { MDM_IP: "10.20.0.11,10.20.0.12" }, root);
      assert.equal(r.exitCode, 0, r.stderr);
      for (const [file, program] of [
        [rexrayTarballName(), "rexray"],
        [dvdcliTarballName(), "dvdcli"],
      ] as const) {
        const bytes = programFromTarGz(readFileSync(join(t.emu.repoDir, file)), program);
        assert.ok(bytes, `${file} holds ${program}`);
        mkdirSync(join(root, "usr/bin"), { recursive: true });
        writeFileSync(join(root, "usr/bin", program), bytes, { mode: 0o755 });
      }
      const doc = rexrayDocument(
        {
          endpoint: `${t.emu.gatewayUrl}/api`,
          systemName: "scaleio",
          protectionDomain: "default",
          storagePool: "default",
          thinOrThick: "ThinProvisioned",
          insecure: false,
          userName: "admin",
          logLevel: "warn",
        },
        PASSWORD,
      );
      mkdirSync(join(root, "etc/rexray"), { recursive: true });
      writeFileSync(
        join(root, "etc/rexray/config.yml"),
        preempt ? doc : doc.replace("preempt: true", "preempt: false"),
      );
      const env = {
        PATH: `${simBinDir()}:${process.env.PATH ?? ""}`,
        SCALEIO_SIM_CONTROL: t.emu.controlUrl,
        SCALEIO_SIM_NODE_IP: ip,
        SCALEIO_SIM_ROOT: root,
      };
      return {
        root,
        rexray: (...args: string[]) => run(join(root, "usr/bin/rexray"), args, env),
        dvdcli: (...args: string[]) => run(join(root, "usr/bin/dvdcli"), args, env),
      };
    };
    const a = node("10.20.0.50");
    const b = node("10.20.0.51", false);
    const json = <T>(r: Run): T => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as T;
    };

    const version = await a.rexray("version");
    assert.match(version.stdout, /SemVer: 0\.11\.4/);
    assert.deepEqual(json<Vol[]>(await a.rexray("volume", "ls", "--format", "json")), []);

    const created = json<Vol[]>(
      await a.rexray("volume", "create", "pgdata", "--size", "4", "--format", "json"),
    );
    assert.equal(created[0]!.name, "pgdata");
    await t.api.login("admin", PASSWORD);
    const onGateway = await t.api.get<{ id: string; name: string; sizeInKb: number }[]>(
      "/api/types/Volume/instances",
    );
    assert.deepEqual(
      onGateway.map((v) => [v.name, v.sizeInKb]),
      [["pgdata", 8 * 1024 * 1024]],
      "created through the gateway, rounded up to 8 GB",
    );
    const listedOnB = json<Vol[]>(await b.rexray("volume", "ls", "--format", "json"));
    assert.deepEqual(
      listedOnB.map((v) => [v.name, v.status]),
      [["pgdata", "available"]],
    );
    assert.match(
      (await b.rexray("volume", "ls")).stdout,
      /^ID\s+Name\s+Status\s+Size\n.*pgdata\s+available\s+8/m,
    );

    // Attach on A: mapped to A's SDC, the device appears under A's root only.
    const attached = json<Vol[]>(
      await a.rexray("volume", "attach", "pgdata", "--format", "json"),
    )[0]!;
    const id = onGateway[0]!.id;
    assert.match(attached.deviceName!, new RegExp(`^/dev/disk/by-id/emc-vol-[0-9a-f]{16}-${id}$`));
    assert.ok(existsSync(join(a.root, attached.deviceName!)));
    assert.ok(!existsSync(join(b.root, attached.deviceName!)));
    const sdcOf = async () =>
      (
        await t.api.get<{ mappedSdcInfo: { sdcIp: string }[] | null }>(
          `/api/instances/Volume::${id}`,
        )
      ).mappedSdcInfo?.map((m) => m.sdcIp) ?? [];
    assert.deepEqual(await sdcOf(), ["10.20.0.50"]);

    // B has preempt off: refused, nothing changes.
    const refused = await b.rexray("volume", "attach", "pgdata");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /attached to another instance.*preempt is off/);
    assert.deepEqual(await sdcOf(), ["10.20.0.50"]);
    // --force takes it over: unmapped from A first (A's device goes), mapped to B.
    json<Vol[]>(await b.rexray("volume", "attach", "pgdata", "--force", "--format", "json"));
    assert.deepEqual(await sdcOf(), ["10.20.0.51"]);
    assert.ok(!existsSync(join(a.root, attached.deviceName!)));
    assert.ok(existsSync(join(b.root, attached.deviceName!)));

    // dvdcli on A (its config has preempt on, as the framework writes it) takes it back.
    const mounted = await a.dvdcli("mount", "--volumedriver=rexray", "--volumename=pgdata");
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.equal(mounted.stdout.trim(), "/var/lib/rexray/volumes/pgdata/data");
    assert.deepEqual(await sdcOf(), ["10.20.0.50"]);
    // No file system here: beside the mount path a link reaches the volume's bytes.
    const link = join(a.root, "var/lib/rexray/volumes/pgdata/device");
    writeFileSync(link, "written on A", { flag: "r+" });
    json<Vol[]>(await b.rexray("volume", "attach", "pgdata", "--force", "--format", "json"));
    assert.equal(
      head(join(b.root, attached.deviceName!), 12),
      "written on A",
      "the same bytes on B",
    );
    assert.ok(!existsSync(link), "A's link is gone with its device");
    assert.equal((await a.dvdcli("mount", "--volumedriver=rexray", "--volumename=pgdata")).code, 0);
    // A missing volume is created with the given size, then attached.
    const fresh = await a.dvdcli(
      "mount",
      "--volumedriver=rexray",
      "--volumename=logs",
      "--volumeopts=size=16,newfstype=xfs",
    );
    assert.equal(fresh.code, 0, fresh.stderr);
    const logs = json<Vol[]>(await a.rexray("volume", "ls", "logs", "--format", "json"))[0]!;
    assert.equal(logs.status, "attached");
    assert.equal((await a.dvdcli("unmount", "--volumedriver=rexray", "--volumename=logs")).code, 0);
    assert.equal(
      json<Vol[]>(await b.rexray("volume", "ls", "logs", "--format", "json"))[0]!.status,
      "available",
    );
    const other = await a.dvdcli("mount", "--volumedriver=flocker", "--volumename=x");
    assert.match(other.stderr, /volume driver 'flocker' not found/);
  } finally {
    await t.close();
    rmSync(roots, { recursive: true, force: true });
  }
});

test("rexray stand-in: wrong credentials and a missing configuration fail with the reason, never the password", async () => {
  const t = await startTestEmu({ https: true, bootstrap: { password: PASSWORD, sdcCount: 0 } });
  const root = mkdtempSync(join(tmpdir(), "scaleio-rexray-"));
  try {
    writeVolumeDriverPackages(t.emu.repoDir, t.emu.caFile);
    const bytes = programFromTarGz(
      readFileSync(join(t.emu.repoDir, rexrayTarballName())),
      "rexray",
    )!;
    const rexray = join(root, "rexray");
    writeFileSync(rexray, bytes, { mode: 0o755 });
    const env = { SCALEIO_SIM_ROOT: root, SCALEIO_SIM_CONTROL: t.emu.controlUrl };
    const missing = await run(rexray, ["volume", "ls"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/etc\/rexray\/config\.yml: no such file/);
    const wrong = "Not-The-Pw-123";
    mkdirSync(join(root, "etc/rexray"), { recursive: true });
    writeFileSync(
      join(root, "etc/rexray/config.yml"),
      `scaleio:\n  endpoint: ${t.emu.gatewayUrl}/api\n  userName: admin\n  password: ${wrong}\n  systemName: scaleio\n`,
    );
    const denied = await run(rexray, ["volume", "ls"], env);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /GET \/login: 401/);
    assert.ok(!denied.stderr.includes(wrong) && !denied.stdout.includes(wrong));
    // Keys are case-insensitive, as REX-Ray's (the predecessor wrote systemId).
    const sys = (await (await fetch(`${t.emu.controlUrl}/admin/state`)).json()) as {
      systemId: string;
    };
    writeFileSync(
      join(root, "etc/rexray/config.yml"),
      `scaleio:\n  Endpoint: ${t.emu.gatewayUrl}/api\n  USERNAME: admin\n  password: ${PASSWORD}\n  systemId: ${sys.systemId}\n`,
    );
    const ok = await run(rexray, ["volume", "ls", "--format", "json"], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), []);
  } finally {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a service whose unit someone wrote under the node root starts, reports and stops (systemctl, service)", async () => {
  const t = await startTestEmu({ bootstrap: false });
  const root = mkdtempSync(join(tmpdir(), "scaleio-unit-"));
  try {
    const ip = "10.20.0.60";
    const sys = (...argv: string[]) => onNode(t.emu, ip, "systemctl", argv, {}, root);
    assert.equal(sys("is-active", "rexray").exitCode, 3, "no unit yet");
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
    writeFileSync(
      join(root, "etc/systemd/system/rexray.service"),
      "[Service]\nExecStart=/usr/bin/rexray start -f\n",
    );
    assert.equal(sys("daemon-reload").exitCode, 0);
    assert.equal(sys("enable", "rexray").exitCode, 0);
    const inactive = sys("is-active", "rexray.service");
    assert.deepEqual([inactive.exitCode, inactive.stdout], [3, "inactive\n"]);
    assert.equal(sys("start", "rexray").exitCode, 0);
    assert.deepEqual(
      [sys("is-active", "rexray").stdout, sys("is-active", "rexray").exitCode],
      ["active\n", 0],
    );
    const viaService = onNode(t.emu, ip, "service", ["rexray", "status"], {}, root);
    assert.equal(viaService.exitCode, 0);
    assert.match(viaService.stderr, /Redirecting to \/bin\/systemctl status {2}rexray\.service/);
    assert.equal(sys("stop", "rexray").exitCode, 0);
    assert.equal(sys("is-active", "rexray").exitCode, 3);

    // A SysV script on another node.
    const root2 = join(root, "sysv");
    mkdirSync(join(root2, "etc/init.d"), { recursive: true });
    writeFileSync(join(root2, "etc/init.d/rexray"), "#!/bin/sh\n", { mode: 0o755 });
    const svc = (verb: string) =>
      onNode(t.emu, "10.20.0.61", "service", ["rexray", verb], {}, root2);
    assert.equal(svc("status").exitCode, 3);
    assert.match(svc("start").stdout, /Starting rexray:\s+\[\s+OK\s+\]/);
    assert.match(svc("status").stdout, /rexray is running/);
  } finally {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  }
});
