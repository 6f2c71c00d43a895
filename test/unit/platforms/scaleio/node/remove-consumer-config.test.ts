// scaleio.remove-consumer-config on an emulated node: after the REX-Ray and isolator steps
// wrote their files, it removes REX-Ray's config.yml, the module description and the agent's
// `modules` file, and takes only the DVDI isolator out of the `isolation` list (the
// operator's isolators stay); a rerun finds nothing left; a `modules` file naming someone
// else's description is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";

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
