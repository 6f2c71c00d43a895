// The node side as an agent's host layer sees it: real child processes found first on PATH
// (rpm, dpkg, scli, drv_cfg), a node named by SCALEIO_SIM_NODE_IP with its own root dir.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simBinDir } from "../../../sim/scaleio/node/packages.js";
import { startTestEmu } from "./helpers.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, NODE_OPTIONS: "", ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test("rpm/dpkg/scli/drv_cfg on PATH drive the emulator for a node; the documented drv_cfg path works too", async () => {
  const t = await startTestEmu({ bootstrap: false });
  const roots = mkdtempSync(join(tmpdir(), "scaleio-bin-"));
  try {
    const nodeEnv = (ip: string, extra: Record<string, string> = {}) => ({
      PATH: `${simBinDir()}:${process.env.PATH ?? ""}`,
      SCALEIO_SIM_CONTROL: t.emu.controlUrl,
      SCALEIO_SIM_NODE_IP: ip,
      SCALEIO_SIM_ROOT: join(roots, ip),
      ...extra,
    });
    const rpmFile = (c: string) =>
      join(t.emu.repoDir, `EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.rpm`);
    const debFile = (c: string) => join(t.emu.repoDir, `emc-scaleio-${c}_2.0-6035.0_amd64.deb`);

    // prerequisites go to the emulated node, never to this machine (absolute paths: never
    // risk the real package managers)
    const yum = await run(
      join(simBinDir(), "yum"),
      ["install", "-y", "zip", "unzip", "libaio", "java-1.8.0-openjdk"],
      nodeEnv("10.20.0.11"),
    );
    assert.match(yum.stdout, /Complete!/);
    assert.match(
      (await run(join(simBinDir(), "yum"), ["install", "-y", "zip"], nodeEnv("10.20.0.11"))).stdout,
      /Nothing to do/,
    );
    assert.match(
      (
        await run(
          join(simBinDir(), "apt-get"),
          ["install", "-y", "libaio1", "zip"],
          nodeEnv("10.20.0.21"),
        )
      ).stdout,
      /0 upgraded, 2 newly installed/,
    );
    const mdm = await run(
      "rpm",
      ["-Uvh", rpmFile("mdm")],
      nodeEnv("10.20.0.11", { MDM_ROLE_IS_MANAGER: "1" }),
    );
    assert.equal(mdm.code, 0, mdm.stderr);
    assert.match(mdm.stdout, /Created symlink from/);
    const again = await run("rpm", ["-Uvh", rpmFile("mdm")], nodeEnv("10.20.0.11"));
    assert.notEqual(again.code, 0, "rpm refuses to reinstall the same version");
    const upgrade = await run(
      "rpm",
      ["-Uvh", join(t.emu.repoDir, "EMC-ScaleIO-mdm-2.0-13000.211.el7.x86_64.rpm")],
      nodeEnv("10.20.0.11"),
    );
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.equal(
      (await run("rpm", ["-q", "EMC-ScaleIO-mdm"], nodeEnv("10.20.0.11"))).stdout,
      "EMC-ScaleIO-mdm-2.0-13000.211.el7.x86_64\n",
    );

    const created = await run(
      "scli",
      [
        "--create_mdm_cluster",
        "--master_mdm_ip",
        "10.20.0.11",
        "--master_mdm_management_ip",
        "10.20.0.11",
        "--master_mdm_name",
        "mdm1",
        "--accept_license",
        "--approve_certificate",
      ],
      nodeEnv("10.20.0.11"),
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Successfully created the MDM Cluster/);
    const noSession = await run("scli", ["--query_all_sds"], nodeEnv("10.20.0.11"));
    assert.equal(noSession.code, 1);
    assert.equal(
      noSession.stderr,
      "Error: MDM failed command.  Status: Invalid session. Please login and try again.\n",
    );
    const login = await run(
      "scli",
      ["--login", "--username", "admin", "--password", "admin"],
      nodeEnv("10.20.0.11"),
    );
    assert.match(
      login.stdout,
      /^Logged in\. User role is SuperUser\. System ID is [0-9a-f]{16}\n$/,
    );
    assert.match(
      (await run("scli", ["--query_cluster"], nodeEnv("10.20.0.11"))).stdout,
      /Version: 2\.0\.13000/,
    );

    // Ubuntu flavour on a second node: upstart markers, SDC registers with the manager
    const sdc = await run(
      "dpkg",
      ["-i", debFile("sdc")],
      nodeEnv("10.20.0.21", { MDM_IP: "10.20.0.11" }),
    );
    assert.equal(sdc.code, 0, sdc.stderr);
    assert.match(sdc.stdout, /Success configuring module/);
    assert.match(
      (await run("dpkg", ["-i", debFile("lia")], nodeEnv("10.20.0.21", { TOKEN: "Scaleio123" })))
        .stdout,
      /lia start\/running/,
    );
    assert.match(
      (await run("dpkg-query", ["-W", "-f=${Version}", "emc-scaleio-sdc"], nodeEnv("10.20.0.21")))
        .stdout,
      /^2\.0-6035\.0$/,
    );
    const guid = await run("drv_cfg", ["--query_guid"], nodeEnv("10.20.0.21"));
    assert.match(guid.stdout, /^[0-9A-F-]{36}\n$/);
    const documented = join(roots, "10.20.0.21", "opt/emc/scaleio/sdc/bin/drv_cfg");
    assert.ok(existsSync(documented));
    const viaPath = await run(documented, ["--query_guid"], {
      SCALEIO_SIM_CONTROL: "",
      SCALEIO_SIM_NODE_IP: "",
    });
    assert.equal(viaPath.stdout, guid.stdout);
    assert.equal(t.emu.sys.sdcByGuid(guid.stdout.trim())?.ip, "10.20.0.21");
    const gw = await run(
      "dpkg",
      ["-i", debFile("gateway")],
      nodeEnv("10.20.0.11", { GATEWAY_ADMIN_PASSWORD: "Scaleio123" }),
    );
    assert.match(gw.stdout, /The EMC ScaleIO Gateway is running/);
    assert.ok(
      !JSON.stringify(await (await fetch(`${t.emu.controlUrl}/admin/state`)).json()).includes(
        "Scaleio123",
      ),
    );

    // removing the package takes the SDC away; drv_cfg then fails like an unloaded scini
    assert.equal((await run("dpkg", ["-P", "emc-scaleio-sdc"], nodeEnv("10.20.0.21"))).code, 0);
    assert.equal(t.emu.sys.sdcByGuid(guid.stdout.trim()), undefined);
    assert.notEqual((await run("drv_cfg", ["--query_guid"], nodeEnv("10.20.0.21"))).code, 0);
    const missing = await run(
      "rpm",
      ["-Uvh", "/nonexistent/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm"],
      nodeEnv("10.20.0.11"),
    );
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such file or directory/);
  } finally {
    await t.close();
    rmSync(roots, { recursive: true, force: true });
  }
});
