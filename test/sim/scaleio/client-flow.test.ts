// The call sequence of the REX-Ray/libStorage ScaleIO driver (via goscaleio), end to end:
// login, version with the token, system by name, PD and pool by relationship, the local SDC
// by drv_cfg GUID, create, attach and wait for the device path, detach, delete.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

type Obj = Record<string, unknown> & { id: string; links: { rel: string; href: string }[] };

test("REX-Ray style attach/detach against the emulator", async () => {
  const t = await startTestEmu({ https: true, bootstrap: false });
  const root = mkdtempSync(join(tmpdir(), "scaleio-agent-"));
  try {
    const r = await fetch(`${t.emu.controlUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(r.status, 200);
    // the agent node: SDC package pointing at the managers
    const sdcPkg = join(t.emu.repoDir, "emc-scaleio-sdc_2.0-6035.0_amd64.deb");
    assert.equal(
      onNode(t.emu, "10.20.0.50", "dpkg", ["-i", sdcPkg], { MDM_IP: "10.20.0.11,10.20.0.12" }, root)
        .exitCode,
      0,
    );

    // goscaleio: login, then version with the token
    await t.api.login("admin", PASSWORD);
    const version = await t.api.raw("GET", "/api/version");
    assert.match(version.text.replace(/"/g, ""), /^\d+\.\d+/);
    const system = (await t.api.get<Obj[]>("/api/types/System/instances")).find(
      (s) => s.name === "scaleio",
    )!;
    const pdHref = system.links.find(
      (l) => l.rel === "/api/System/relationship/ProtectionDomain",
    )!.href;
    const pd = (await t.api.get<Obj[]>(pdHref)).find((p) => p.name === "default")!;
    const poolHref = pd.links.find(
      (l) => l.rel === "/api/ProtectionDomain/relationship/StoragePool",
    )!.href;
    const pool = (await t.api.get<Obj[]>(poolHref)).find((p) => p.name === "default")!;
    const guid = onNode(t.emu, "10.20.0.50", "drv_cfg", ["--query_guid"], {}, root).stdout.trim();
    const sdcs = await t.api.get<Obj[]>(`/api/instances/System::${system.id}/relationships/Sdc`);
    const sdc = sdcs.find((s) => s.sdcGuid === guid.toUpperCase())!;
    assert.ok(sdc, "the agent's SDC is found by GUID");

    // create (name truncated to 31 by the driver), attach, wait for the device
    const name = "a-very-long-volume-name-from-marathon-app".slice(0, 31);
    const { id } = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name,
      volumeSizeInKb: String(16 * 1048576),
      volumeType: "ThinProvisioned",
      storagePoolId: pool.id,
      protectionDomainId: pd.id,
    });
    await t.api.post(`/api/instances/Volume::${id}/action/addMappedSdc`, {
      sdcId: sdc.id,
      allowMultipleMappings: "FALSE",
    });
    const dev = join(root, "dev/disk/by-id", `emc-vol-${system.id}-${id}`);
    assert.ok(existsSync(dev));
    assert.match(realpathSync(dev), /volumes\/[0-9a-f]{16}\.img$/);
    const attached = await t.api.get<Obj[]>(`/api/instances/Sdc::${sdc.id}/relationships/Volume`);
    assert.deepEqual(
      attached.map((v) => v.id),
      [id],
    );
    const volStats = await t.api.get<Record<string, unknown>>(
      `/api/instances/Volume::${id}/relationships/Statistics`,
    );
    assert.equal(volStats.numOfMappedSdcs, 1);

    // detach and delete
    await t.api.post(`/api/instances/Volume::${id}/action/removeMappedSdc`, { sdcId: sdc.id });
    assert.ok(!existsSync(dev));
    await t.api.post(`/api/instances/Volume::${id}/action/removeVolume`, { removeMode: "ONLY_ME" });
    assert.ok(
      !existsSync(join(t.emu.stateDir, "volumes", `${id}.img`)),
      "the backing file goes with the volume",
    );
    await t.api.raw("GET", "/api/logout");
  } finally {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  }
});
