// scaleio.remove-packages against the emulator's node side: the components go (rpm -e), a
// rerun finds nothing left to remove, other components and other nodes stay, bad lists are
// refused before anything runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";

const PW = "S3cret-pw";

test("remove-packages: SDS and LIA removed in order, another node untouched; a rerun reports them absent; bad lists refused", async () => {
  const n = await startEmuNodes();
  try {
    const ip = "10.50.0.31";
    const other = "10.50.0.32";
    const packages = [
      { component: "sds", url: n.rpmUrl("sds") },
      { component: "lia", url: n.rpmUrl("lia") },
    ];
    for (const node of [ip, other])
      data(await step(n, node, "scaleio.install-packages", { packages }, { password: PW }));
    const installed = (node: string) =>
      [...(n.emu.sys.nodes.get(node)?.packages.keys() ?? [])].sort();
    assert.deepEqual(installed(ip), ["lia", "sds"]);

    const progress: string[] = [];
    const first = data<{ removed: string[]; absent: string[] }>(
      await step(
        n,
        ip,
        "scaleio.remove-packages",
        { components: ["sds", "lia"] },
        { onProgress: (m) => progress.push(m) },
      ),
    );
    assert.deepEqual(first, { removed: ["sds", "lia"], absent: [] });
    assert.deepEqual(installed(ip), []);
    assert.deepEqual(installed(other), ["lia", "sds"], "another node is untouched");
    assert.ok(
      progress.some((m) => /removed EMC-ScaleIO-sds/.test(m)),
      progress.join("; "),
    );

    const again = data<{ removed: string[]; absent: string[] }>(
      await step(n, ip, "scaleio.remove-packages", { components: ["sds", "lia"] }),
    );
    assert.deepEqual(again, { removed: [], absent: ["sds", "lia"] });

    for (const bad of [
      { components: [] },
      { components: ["sds", "sds"] },
      { components: ["sds;reboot"] },
      { components: ["sds"], extra: 1 },
    ]) {
      const r = await step(n, other, "scaleio.remove-packages", bad);
      assert.equal((r.result as { permanent?: boolean }).permanent, true, JSON.stringify(bad));
    }
    assert.deepEqual(installed(other), ["lia", "sds"], "a refused step removed nothing");
  } finally {
    await n.close();
  }
});
