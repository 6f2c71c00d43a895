// The dev host profile never runs the real machine's programs: only the emulated node's tools
// (SCALEIO_SIM_TOOLS) and programs under its root. Each "program" here is a script that
// leaves a mark when it runs, so a refusal can be told from a failed run.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { hostProfileFromEnv } from "../../../src/host/profile.js";

function world() {
  const dir = mkdtempSync(join(tmpdir(), "emulated-node-"));
  const real = join(dir, "real-bin"); // stands for /usr/bin of the machine
  const tools = join(dir, "tools"); // the emulator's node tools
  const root = join(dir, "root");
  for (const d of [real, tools, join(root, "opt/bin")]) mkdirSync(d, { recursive: true });
  const marks = join(dir, "marks");
  mkdirSync(marks);
  const program = (folder: string, name: string) => {
    const path = join(folder, name);
    writeFileSync(
      path,
      `#!/bin/sh\n: > '${join(marks, `${basename(folder)}-${name}`)}'\necho ran\n`,
    );
    chmodSync(path, 0o755);
    return path;
  };
  const ran = () => readdirSync(marks).sort();
  return { dir, real, tools, root, program, ran };
}

test("dev profile: a program found only on the real machine is refused, not run", async () => {
  const w = world();
  try {
    for (const name of ["apt-get", "yum", "systemctl", "mkfs.ext4", "scli"])
      w.program(w.real, name);
    const env = {
      SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
      SCALEIO_SIM_ROOT: w.root,
      SCALEIO_SIM_TOOLS: w.tools,
      SCALEIO_FRAMEWORK_PACKAGE_FORMAT: "deb",
    };
    const host = await hostProfileFromEnv(env);
    const opts = { baseEnv: { PATH: `${w.tools}:${w.real}` } };
    for (const name of ["systemctl", "mkfs.ext4", "scli"]) {
      await assert.rejects(
        host.run(name, ["x"], opts),
        (e: Error) =>
          e.message.includes(`${name}: not run: this is an emulated node`) &&
          e.message.includes("belongs to the real machine"),
      );
    }
    await assert.rejects(host.run("nonexistent-tool", [], opts), /no emulated tool of that name/);
    // The package manager goes through the same runner.
    const saved = process.env.PATH;
    process.env.PATH = `${w.tools}:${w.real}`;
    try {
      await assert.rejects(
        host.packages.installOsPackages(["libaio1", "zip"]),
        /apt-get: not run: this is an emulated node/,
      );
    } finally {
      process.env.PATH = saved;
    }
    assert.deepEqual(w.ran(), [], "nothing of the real machine ran");
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("dev profile: the emulated node's tools and programs under its root run", async () => {
  const w = world();
  try {
    w.program(w.tools, "apt-get");
    w.program(w.real, "apt-get");
    const inRoot = w.program(join(w.root, "opt/bin"), "drv_cfg");
    // A link in the root to a real program is still the real program.
    symlinkSync(w.program(w.real, "modprobe"), join(w.root, "opt/bin/modprobe"));
    const host = await hostProfileFromEnv({
      SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
      SCALEIO_SIM_ROOT: w.root,
      SCALEIO_SIM_TOOLS: w.tools,
    });
    const opts = { baseEnv: { PATH: `${w.tools}:${w.real}` } };
    assert.equal((await host.run("apt-get", ["install", "-y", "zip"], opts)).stdout, "ran\n");
    assert.equal((await host.run(inRoot, [], opts)).stdout, "ran\n");
    await assert.rejects(
      host.run(join(w.root, "opt/bin/modprobe"), [], opts),
      /modprobe: not run: this is an emulated node/,
    );
    assert.deepEqual(w.ran(), ["bin-drv_cfg", "tools-apt-get"]);
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("dev profile: the real root is not an emulated node", async () => {
  await assert.rejects(
    hostProfileFromEnv({ SCALEIO_FRAMEWORK_HOST_PROFILE: "dev", SCALEIO_SIM_ROOT: "/" }),
    /root must be a folder of its own/,
  );
});
