import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostRoot } from "../../../src/host/files.js";
import { detectOsProfile, parseOsRelease, readOnlyMounts } from "../../../src/host/os-profile.js";
import { hostProfileFromEnv } from "../../../src/host/profile.js";
import { prepareEmulatedOs, type EmulatedOsName } from "../../../sim/mesos/emulated-os.js";

function withRoot<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "os-profile-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const put = (dir: string, path: string, content: string) => {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), content);
};

const expected: Record<
  EmulatedOsName,
  { id: string; format: string; install: string; init: string; tool: string; ro: string[] }
> = {
  "ubuntu-14.04": {
    id: "ubuntu-14.04",
    format: "deb",
    install: "package-tool",
    init: "upstart",
    tool: "apt-get",
    ro: [],
  },
  "ubuntu-16.04": {
    id: "ubuntu-16.04",
    format: "deb",
    install: "package-tool",
    init: "systemd",
    tool: "apt-get",
    ro: [],
  },
  "ubuntu-18.04": {
    id: "ubuntu-18.04",
    format: "deb",
    install: "package-tool",
    init: "systemd",
    tool: "apt-get",
    ro: [],
  },
  "debian-9": {
    id: "debian-9",
    format: "deb",
    install: "package-tool",
    init: "systemd",
    tool: "apt-get",
    ro: [],
  },
  "rhel-6": {
    id: "rhel-6",
    format: "rpm",
    install: "package-tool",
    init: "sysv",
    tool: "yum",
    ro: [],
  },
  "rhel-7": {
    id: "rhel-7",
    format: "rpm",
    install: "package-tool",
    init: "systemd",
    tool: "yum",
    ro: [],
  },
  "centos-7": {
    id: "rhel-7",
    format: "rpm",
    install: "package-tool",
    init: "systemd",
    tool: "yum",
    ro: [],
  },
  coreos: {
    id: "coreos",
    format: "rpm",
    install: "unpack",
    init: "systemd",
    tool: "none",
    ro: ["/usr"],
  },
  flatcar: {
    id: "flatcar",
    format: "rpm",
    install: "unpack",
    init: "systemd",
    tool: "none",
    ro: ["/usr"],
  },
};

for (const [name, want] of Object.entries(expected) as [
  EmulatedOsName,
  (typeof expected)[EmulatedOsName],
][]) {
  test(`OS profile: an emulated ${name} host is detected as ${want.id} (${want.format}, ${want.install}, ${want.init})`, async () => {
    await withRoot(async (dir) => {
      prepareEmulatedOs(dir, name);
      const os = await detectOsProfile(new HostRoot(dir));
      assert.equal(os.id, want.id);
      assert.equal(os.packages.format, want.format);
      assert.equal(os.packages.install, want.install);
      assert.equal(os.packages.osTool, want.tool);
      assert.equal(os.init, want.init);
      assert.deepEqual(os.readOnly, want.ro);
      assert.match(os.kernel.release ?? "", /^\d+\.\d+/);
      if (want.install === "unpack") {
        assert.equal(os.serviceDir, "/etc/systemd/system");
        assert.deepEqual(os.writable, ["/opt", "/etc", "/var"]);
      }
    });
  });
}

test("OS profile: probes win over the release's default init system; an explicit format is only a fallback", async () => {
  await withRoot(async (dir) => {
    prepareEmulatedOs(dir, "ubuntu-14.04");
    mkdirSync(join(dir, "run/systemd/system"), { recursive: true }); // moved to systemd
    const os = await detectOsProfile(new HostRoot(dir), { explicitFormat: "rpm" });
    assert.equal(os.init, "systemd");
    assert.equal(os.packages.format, "deb"); // Ubuntu says deb, whatever the variable says
  });
  await withRoot(async (dir) => {
    // No os-release nor marker: the operator's choice decides; nothing at all is an error.
    assert.equal(
      (await detectOsProfile(new HostRoot(dir), { explicitFormat: "deb" })).packages.format,
      "deb",
    );
    await assert.rejects(detectOsProfile(new HostRoot(dir)), /unsupported operating system/);
    put(dir, "/etc/os-release", 'ID=arch\nPRETTY_NAME="Arch Linux"\n');
    await assert.rejects(
      detectOsProfile(new HostRoot(dir)),
      /unsupported operating system 'Arch Linux'/,
    );
  });
  await withRoot(async (dir) => {
    // CentOS 6: only a release file.
    put(dir, "/etc/centos-release", "CentOS release 6.10 (Final)\n");
    const os = await detectOsProfile(new HostRoot(dir));
    assert.deepEqual([os.id, os.init, os.versionId], ["rhel-6", "sysv", "6.10"]);
  });
});

test("OS profile: os-release quoting and read-only mounts from /proc/mounts", () => {
  assert.deepEqual(parseOsRelease("ID=\"rhel\"\nNAME='x y'\n# c\nVERSION_ID=7.9\nBAD LINE\n"), {
    ID: "rhel",
    NAME: "x y",
    VERSION_ID: "7.9",
  });
  assert.deepEqual(
    readOnlyMounts(
      "/dev/sda9 / ext4 rw 0 0\n/dev/mapper/usr /usr ext4 ro,relatime 0 0\nsysfs /sys sysfs ro 0 0\ntmpfs /opt/x\\040y tmpfs ro 0 0\n",
    ),
    ["/usr", "/opt/x y"],
  );
});

test("OS profile: on an emulated Flatcar host a write under /usr fails, /opt and /etc are writable, and there is no package tool", async () => {
  await withRoot(async (dir) => {
    prepareEmulatedOs(dir, "flatcar");
    const host = await hostProfileFromEnv({
      SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
      SCALEIO_SIM_ROOT: dir,
      SCALEIO_FRAMEWORK_PACKAGE_FORMAT: "rpm",
    });
    assert.equal(host.os.family, "flatcar");
    assert.equal(host.packages.method, "unpack");
    await assert.rejects(
      host.root.writeAtomic("/usr/lib/systemd/system/scini.service", "x"),
      /\/usr\/lib\/systemd\/system\/scini.service: read-only file system/,
    );
    await assert.rejects(host.root.ensureDir("/usr/local/bin"), /read-only file system/);
    assert.equal(await host.root.writeAtomic("/etc/systemd/system/scini.service", "x"), true);
    assert.equal(await host.root.writeAtomic("/opt/emc/scaleio/x", "x"), true);
    await assert.rejects(host.packages.installOsPackages(["libaio"]), /has no package manager/);
  });
});

test("OS profile: a kernel given to the emulated OS is the one detected", async () => {
  await withRoot(async (dir) => {
    prepareEmulatedOs(dir, "ubuntu-18.04", { kernel: "4.15.0-112-generic" });
    assert.equal((await detectOsProfile(new HostRoot(dir))).kernel.release, "4.15.0-112-generic");
  });
});
