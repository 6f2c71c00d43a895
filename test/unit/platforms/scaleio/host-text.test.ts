// The discover step's words: what an operator reads about each agent's host in the plan.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hostText, type HostFacts } from "../../../../src/platforms/scaleio/deploy-plan.js";

const devices = [
  { path: "/dev/sdb", sizeBytes: 1, usable: true },
  { path: "/dev/sda", sizeBytes: 1, usable: false, reason: "has a filesystem" },
];

test("the discover step says the OS, how packages are installed, the init system and kernel", () => {
  const flatcar: HostFacts = {
    packageFormat: "rpm",
    devices,
    installed: {},
    os: { id: "flatcar", install: "unpack", init: "systemd", kernel: "5.10.43-flatcar" },
  };
  assert.equal(
    hostText(flatcar),
    "flatcar: payloads unpacked, systemd, kernel 5.10.43-flatcar, 1 usable device",
  );
  const ubuntu: HostFacts = {
    packageFormat: "deb",
    devices: [],
    installed: {},
    os: { id: "ubuntu-14.04", install: "package-tool", init: "upstart" },
  };
  assert.equal(hostText(ubuntu), "ubuntu-14.04: deb packages, upstart, 0 usable devices");
  // facts from an executor that predates OS profiles
  assert.equal(
    hostText({ packageFormat: "rpm", devices, installed: {} }),
    "rpm packages, 1 usable device",
  );
});
