// A plain development cluster never changes the machine it runs on: the framework's real
// executor, launched on it with no ScaleIO environment at all, gets an emulated host. Its
// package, service and device steps end with clear errors, and the programs of the real
// machine (stood in for by marking scripts first on the agents' PATH) never run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import {
  decodeResult,
  encodeSpec,
  type NodeTaskResult,
} from "../../../src/framework/node-task/protocol.js";
import { FRAMEWORK, Scheduler, type Ev } from "./helpers.js";

const ENTRY = fileURLToPath(new URL("../../../src/executor/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const HOST_TOOLS = ["apt-get", "yum", "dpkg", "dpkg-query", "rpm", "systemctl", "lsblk", "scli"];

let c: DevCluster;
let s: Scheduler;
let dir: string;
const marks = () => readdirSync(join(dir, "marks"));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "emulated-host-"));
  const realBin = join(dir, "real-bin");
  mkdirSync(realBin);
  mkdirSync(join(dir, "marks"));
  for (const name of HOST_TOOLS) {
    const path = join(realBin, name);
    writeFileSync(path, `#!/bin/sh\n: > '${join(dir, "marks", name)}'\nexit 0\n`);
    chmodSync(path, 0o755);
  }
  // The agents (and so their executors) inherit this PATH: the "machine's" tools come first.
  const saved = process.env.PATH;
  process.env.PATH = `${realBin}:${saved ?? ""}`;
  try {
    c = await startDevCluster({
      agents: 1,
      master: { allocationIntervalMs: 100 },
      agent: { registrationBackoffMs: 100, statusUpdateRetryMs: 300 },
    });
  } finally {
    process.env.PATH = saved;
  }
  await c.agents[0]!.id();
  s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, name: "emulated-host-test" });
});
after(async () => {
  s?.close();
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cpus = (value: number) => ({ name: "cpus", type: "SCALAR", scalar: { value } });

test("a node step on a plain dev cluster: clear errors, nothing run on the real machine", async () => {
  const [offer] = await s.offers(1);
  const steps = {
    facts: { kind: "scaleio.host-facts", params: {} },
    prereqs: { kind: "scaleio.install-prerequisites", params: {} },
    restart: { kind: "scaleio.restart-agent", params: { service: "mesos-slave" } },
  };
  const r = await s.call("ACCEPT", {
    offer_ids: [offer!.id],
    operations: [
      {
        type: "LAUNCH",
        launch: {
          task_infos: Object.entries(steps).map(([id, st]) => ({
            name: id,
            task_id: { value: id },
            agent_id: offer!.agent_id,
            resources: [cpus(0.01)],
            data: encodeSpec({ protocol: 1, stepId: `${id}/a0`, attempt: 1, ...st }),
            executor: {
              type: "CUSTOM",
              executor_id: { value: "scaleio-executor" },
              command: {
                shell: false,
                value: process.execPath,
                arguments: [process.execPath, "--import", TSX, ENTRY],
                environment: {
                  variables: [{ name: "SCALEIO_FRAMEWORK_LOG_LEVEL", value: "warn" }],
                },
              },
              resources: [cpus(0.05)],
            },
          })),
        },
      },
    ],
  });
  assert.equal(r.status, 202, r.body);
  const results: Record<string, NodeTaskResult> = {};
  for (const id of Object.keys(steps)) {
    const last: Ev = await s.terminal(id, 60_000);
    results[id] = decodeResult(last.data) ?? { ok: false, error: `no result: ${last.message}` };
  }
  const facts = results.facts!;
  if (facts.ok) {
    assert.deepEqual((facts.data as { devices: unknown[] }).devices, [], "no device of the host");
  } else assert.match(facts.error, /SCALEIO_SIM_CONTROL is not set/);
  assert.equal(results.prereqs!.ok, false);
  assert.match(
    (results.prereqs as { error: string }).error,
    /(yum|apt-get) .*SCALEIO_SIM_CONTROL is not set/,
  );
  assert.equal(results.restart!.ok, false);
  assert.match(
    (results.restart as { error: string }).error,
    // The emulator's own systemctl when it has one, else refused: never the machine's.
    /systemctl(: not run: this is an emulated node| .*SCALEIO_SIM_CONTROL is not set)/,
  );
  assert.deepEqual(marks(), [], "no program of the real machine ran");
});
