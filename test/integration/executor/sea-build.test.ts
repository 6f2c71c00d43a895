// `npm run build:executor`: one self-contained executable that needs no Node.js on the agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevCluster } from "../../../sim/mesos/index.js";
import { SchedulerClient, type Offer, type TaskStatus } from "../../../src/mesos/index.js";
import { decodeResult, encodeSpec } from "../../../src/framework/node-task/protocol.js";
import { startEmuNodes } from "../../support/scaleio-node.js";
import { until } from "../../support/wait.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { env, timeout: 120_000, cwd: repo }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test(
  "the executor builds into one binary that prints its version and reads MESOS_*",
  { timeout: 180_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), "sea-"));
    try {
      const built = await run(process.execPath, ["scripts/build-executor.mjs", "--out", out]);
      assert.equal(built.code, 0, built.stderr);
      const binary = join(out, "scaleio-executor");
      assert.ok(statSync(binary).mode & 0o100, "executable");
      const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
      // no Node.js on PATH and no loader flags: the binary carries its own runtime
      const bare = { PATH: "/nonexistent", HOME: out };
      const v = await run(binary, ["--version"], bare);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout, `${version}\n`);
      const noEnv = await run(binary, ["executor"], bare);
      assert.equal(noEnv.code, 2);
      const line = JSON.parse(noEnv.stderr.trim().split("\n").at(-1)!);
      assert.equal(line.msg, "bad executor environment");
      assert.match(line.err, /MESOS_FRAMEWORK_ID/);
      await runsAStepOnTheDevCluster(binary);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);

/** The binary as the custom executor of a dev-cluster agent: a host-facts step finishes. */
async function runsAStepOnTheDevCluster(binary: string): Promise<void> {
  const nodes = await startEmuNodes();
  const cluster = await startDevCluster({
    agents: 1,
    master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
  });
  const statuses: TaskStatus[] = [];
  let launched = false;
  const client = new SchedulerClient({
    master: cluster.masterUrl,
    frameworkInfo: {
      user: "root",
      name: "sea-it",
      roles: ["*"],
      checkpoint: true,
      capabilities: [{ type: "MULTI_ROLE" }],
    },
    persistFrameworkId: () => {},
    callTimeoutMs: 5000,
  });
  try {
    client.on("offers", (offers: Offer[]) => {
      for (const offer of offers) {
        if (launched) {
          void client.decline([offer.id], { refuse_seconds: 60 }).catch(() => {});
          continue;
        }
        launched = true;
        const res = (name: string, value: number) => ({
          name,
          type: "SCALAR" as const,
          scalar: { value },
          allocation_info: offer.allocation_info!,
        });
        const vars = { ...nodes.envOf("10.70.0.1"), SCALEIO_FRAMEWORK_LOG_LEVEL: "warn" };
        void client
          .accept(
            [offer.id],
            [
              {
                type: "LAUNCH",
                launch: {
                  task_infos: [
                    {
                      name: "facts",
                      task_id: { value: "facts" },
                      agent_id: offer.agent_id,
                      resources: [res("cpus", 0.01), res("mem", 8)],
                      data: encodeSpec({
                        protocol: 1,
                        stepId: "facts",
                        attempt: 1,
                        kind: "scaleio.host-facts",
                        params: {},
                      }),
                      executor: {
                        type: "CUSTOM",
                        executor_id: { value: "sea-executor" },
                        command: {
                          shell: false,
                          value: binary,
                          arguments: [binary, "executor"],
                          environment: {
                            variables: Object.entries(vars).map(([name, value]) => ({
                              name,
                              value,
                            })),
                          },
                        },
                        resources: [res("cpus", 0.05), res("mem", 64)],
                      },
                    },
                  ],
                },
              },
            ],
          )
          .catch(() => {});
      }
    });
    client.on("update", (s: TaskStatus) => {
      statuses.push(s);
      void client.acknowledgeIfNeeded(s).catch(() => {});
    });
    client.start();
    await until(
      client,
      ["update"],
      () => ["TASK_FINISHED", "TASK_FAILED", "TASK_LOST"].includes(statuses.at(-1)?.state ?? ""),
      60_000,
    ).catch(() => {
      throw new Error(`no terminal state; saw ${JSON.stringify(statuses)}`);
    });
    const done = statuses.at(-1)!;
    assert.equal(done.state, "TASK_FINISHED", done.message);
    const r = decodeResult(done.data) as { ok: boolean; data: { packageFormat: string } };
    assert.equal(r.data.packageFormat, "rpm");
  } finally {
    await client.stop().catch(() => {});
    await cluster.stop();
    await nodes.close();
  }
}
