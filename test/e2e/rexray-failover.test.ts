// The failover walk-through driven by the volume driver on the agents (issue 18, item 4): the
// application task on agent A gets its volume through dvdcli/REX-Ray (created and attached to
// A's SDC), writes to it, A dies, and the task on agent B gets the same volume through
// dvdcli/REX-Ray (preempted from A's SDC) and reads the same SHA-256. The walk-through itself
// maps and unmaps nothing: every mapping change comes from a driver on an agent.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startDemo, type Demo } from "../../sim/demo/demo.js";
import { runFailover } from "../../sim/demo/failover.js";

const PASSWORD = "Failover-Pw-123";
let demo: Demo;

before(async () => {
  process.env.SCALEIO_ADMIN_PASSWORD = PASSWORD;
  demo = await startDemo({
    agents: 3,
    storageAgents: 3,
    out: () => undefined,
    deadlineMs: 120_000,
    agentPingTimeoutMs: 1000,
  });
  await demo.healthy;
});

after(async () => {
  await demo?.stop();
});

test(
  "failover through dvdcli/REX-Ray: written on A, preempted and read back on B",
  { timeout: 150_000 },
  async () => {
    const sys = demo.emulator.sys;
    const hosts = demo.cluster.agents.map((a) => a.host);
    // Who changes mappings: the gateway's actions are counted by the SDC they name.
    const maps: string[] = [];
    const original = { map: sys.mapVolume.bind(sys), unmap: sys.unmapVolume.bind(sys) };
    sys.mapVolume = ((id: string, sdcId: string, ...rest: unknown[]) => {
      maps.push(`map ${sys.sdcs.get(sdcId)?.ip}`);
      return (original.map as (...a: unknown[]) => unknown)(id, sdcId, ...rest);
    }) as typeof sys.mapVolume;
    sys.unmapVolume = ((id: string, sdcId: string) => {
      maps.push(`unmap ${sys.sdcs.get(sdcId)?.ip}`);
      return original.unmap(id, sdcId);
    }) as typeof sys.unmapVolume;

    const lines: string[] = [];
    const r = await runFailover(demo, {
      from: 1,
      to: 2,
      password: PASSWORD,
      out: (l) => lines.push(l),
      timeoutMs: 60_000,
    });
    assert.match(r.written, /^[0-9a-f]{64}$/);
    assert.equal(r.read, r.written);
    assert.equal(lines.length, 6, lines.join("\n"));
    assert.match(lines[0]!, /asked dvdcli for volume failover-\d+: REX-Ray created [0-9a-f]{16}/);
    assert.match(
      lines[1]!,
      new RegExp(`attached it to the SDC at ${hosts[1]!.replace(/\./g, "\\.")}`),
    );
    assert.match(
      lines[4]!,
      new RegExp(`REX-Ray took it over, now attached to ${hosts[2]!.replace(/\./g, "\\.")}$`),
    );
    assert.deepEqual(
      maps,
      [`map ${hosts[1]}`, `unmap ${hosts[1]}`, `map ${hosts[2]}`],
      "A's driver mapped it, B's driver preempted it",
    );
    const vol = sys.listVolumes().find((v) => v.id === r.volumeId)!;
    assert.deepEqual(
      vol.mappings.map((m) => sys.sdcs.get(m.sdcId)?.ip),
      [hosts[2]],
    );
  },
);
