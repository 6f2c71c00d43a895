// deploy/marathon.json as shipped, run the way Marathon runs it, deploys a healthy cluster.
// Its `cmd` goes through `bash -c` in a sandbox laid out as Marathon's fetch leaves it (the
// framework's folder, `scaleio-framework`, here a link to this checkout), with its `env`.
// Substituted: only what Marathon and Mesos provide ($PORT0, $MESOS_SANDBOX, the secrets)
// and what belongs to the site (the master, the package repository: the emulator's /repo).
// Every other flag and the package version stay as shipped, `--executor-launch artifact`
// included. Added for the development cluster: the API listens on loopback only, and the
// scheduler finds the emulator's gateway (one address, its own CA) instead of one on the
// primary MDM's address.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emulatorObjects, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { buildExecutorArtifact } from "../support/executor-artifact.js";
import { waitUntil } from "../support/wait.js";
import type { ScaleioSystem } from "../../sim/scaleio/model/system.js";

const checkout = fileURLToPath(new URL("../../", import.meta.url));
const app = JSON.parse(readFileSync(join(checkout, "deploy", "marathon.json"), "utf8")) as {
  cmd: string;
  env: Record<string, string | { secret: string }>;
  fetch: { uri: string; extract: boolean }[];
  healthChecks: { path: string }[];
};

let env: DeployEnv | undefined;
let child: ChildProcess | undefined;
after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  }
  await env?.stop();
});

/** Files named `name` under `dir`, recursively. */
function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? findFiles(join(dir, e.name), name)
      : e.name === name
        ? [join(dir, e.name)]
        : [],
  );
}

/** A port nobody listens on, as Marathon hands one out in $PORT0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test(
  "the Marathon app as shipped deploys the development cluster to healthy",
  { timeout: 420_000 },
  async () => {
    const MASTER_AS_SHIPPED = "--master zk://master.mesos:2181/mesos";
    assert.ok(app.cmd.includes(MASTER_AS_SHIPPED), app.cmd);
    assert.ok(app.fetch[0]!.extract, "Marathon unpacks the framework's tarball");
    const building = buildExecutorArtifact();
    env = await startDeployEnv({ agents: 3 });
    await building;

    // The sandbox as the fetcher leaves it: the unpacked framework, and the persistent volume.
    const sandbox = join(env.dir, "sandbox");
    mkdirSync(join(sandbox, "state"), { recursive: true });
    symlinkSync(checkout, join(sandbox, "scaleio-framework"));
    const token = "marathon-e2e-token-0123456789";
    const secrets: Record<string, string> = { adminPassword: env.password, apiToken: token };
    const appEnv = Object.fromEntries(
      Object.entries(app.env).map(([k, v]) => [
        k,
        typeof v === "string" ? v : (secrets[v.secret] ?? assert.fail(`secret ${v.secret}`)),
      ]),
    );
    assert.match(appEnv.SCALEIO_FRAMEWORK_PACKAGE_REPO ?? "", /^https?:\/\//);
    const version = appEnv.SCALEIO_FRAMEWORK_PACKAGE_VERSION!;
    const port = await freePort();
    const cmd = app.cmd.replace(MASTER_AS_SHIPPED, `--master ${env.cluster.masterUrl}`);
    let stderr = "";
    child = spawn("bash", ["-c", cmd], {
      cwd: sandbox,
      env: {
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: sandbox,
        // Marathon and Mesos.
        PORT0: String(port),
        PORT: String(port),
        MESOS_SANDBOX: sandbox,
        ...appEnv,
        // The site: the package repository is the emulator's.
        SCALEIO_FRAMEWORK_PACKAGE_REPO: `${env.emulator.controlUrl}/repo`,
        // The development cluster: loopback only, and the emulator's gateway.
        SCALEIO_FRAMEWORK_API_ADDRESS: "127.0.0.1",
        SCALEIO_FRAMEWORK_GATEWAY_URL: env.emulator.gatewayUrl,
        SCALEIO_FRAMEWORK_GATEWAY_CA_FILE: env.emulator.caFile!,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = () => child!.exitCode !== null || child!.signalCode !== null;

    const api = `http://127.0.0.1:${port}`;
    const get = async <T>(path: string): Promise<T | undefined> => {
      if (exited()) assert.fail(`the scheduler exited (${child!.exitCode}):\n${stderr}`);
      try {
        const res = await fetch(`${api}${path}`);
        return res.ok ? ((await res.json()) as T) : undefined;
      } catch {
        return undefined; // not listening yet
      }
    };
    // A timeout shows the end of what the scheduler logged.
    const until = (cond: () => Promise<boolean>, timeoutMs: number, what: string) =>
      waitUntil(cond, { timeoutMs, intervalMs: 500, what }).catch((err: Error) =>
        assert.fail(`${err.message}; the scheduler logged:\n${stderr.slice(-4000)}`),
      );
    type Plan = { status: string; phases: { steps: { id: string; status: string }[] }[] };
    await until(
      async () => {
        const plan = await get<Plan>("/v1/plans/deploy");
        const steps = plan?.phases.flatMap((p) => p.steps) ?? [];
        return (
          plan?.status === "COMPLETE" &&
          steps.some((s) => s.id === "verify/cluster" && s.status === "COMPLETE")
        );
      },
      300_000,
      "the deploy plan to complete",
    );
    await until(
      async () => (await get<{ status: string }>("/v1/health"))?.status === "healthy",
      60_000,
      "/v1/health healthy",
    );
    // Marathon's own health check.
    assert.equal((await fetch(`${api}${app.healthChecks[0]!.path}`)).status, 200);

    // No install step waited for a package source; each node got the shipped version.
    assert.doesNotMatch(stderr, /package configured/);
    const objs = emulatorObjects(env.emulator.sys);
    assert.equal(objs.clusterMode, "3_node");
    assert.equal(objs.sds.length, 3);
    const sys: ScaleioSystem = env.emulator.sys;
    for (const host of env.cluster.agents.map((a) => a.host)) {
      for (const c of ["sds", "sdc", "lia"] as const) {
        assert.equal(sys.nodes.get(host)?.packages.get(c)?.version, version, `${c} on ${host}`);
      }
    }
    // The agents ran the fetched executor artifact, as shipped.
    assert.ok(
      findFiles(join(env.dir, "mesos"), "scaleio-executor").length >= 3,
      "each agent fetched the executor artifact",
    );

    child.kill("SIGTERM");
    const code = await new Promise((r) => child!.once("exit", (c) => r(c)));
    assert.equal(code, 0, stderr.slice(-2000));
  },
);
