// The scheduler as an operator starts it: predecessor-style flags, the `api:` line, /health
// turning healthy once subscribed, a clean exit on SIGTERM, a clear refusal without the
// admin password, and no secret in its output.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { waitUntil, withDeadline } from "../../support/wait.js";
import { killAll, runCli } from "../../support/cli-process.js";
import { OPTIONS, envName } from "../../../src/cli/config/load.js";

const PASSWORD = "Sched-Adm1n-pw";
let cluster: DevCluster | undefined;
after(async () => {
  killAll();
  await cluster?.stop();
});

const scheduler = (args: string[], env: Record<string, string> = {}) =>
  runCli(["scheduler", ...args], env);

test(
  "starts with the predecessor's flags, becomes healthy, stops cleanly on SIGTERM",
  { timeout: 90_000 },
  async () => {
    cluster = await startDevCluster({
      agents: 1,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const dir = mkdtempSync(join(tmpdir(), "sched-cli-"));
    const s = scheduler(
      [
        `-uri=${cluster.masterUrl}`,
        "-rest.port=0",
        "--api-address",
        "127.0.0.1",
        "--state-dir",
        join(dir, "state"),
        "-loglevel=debug",
        "-scaleio.protectiondomain=pd1",
      ],
      { SCALEIO_ADMIN_PASSWORD: PASSWORD },
    );
    await waitUntil(() => /^api: http:\/\/127\.0\.0\.1:\d+$/m.test(s.out()), {
      timeoutMs: 30_000,
      what: "the api: line",
    });
    const api = /^api: (\S+)$/m.exec(s.out())![1]!;
    let health = 0;
    await waitUntil(
      async () => {
        health = (await fetch(`${api}/health`)).status;
        return health === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "healthy" },
    );
    const version = (await (await fetch(`${api}/version`)).json()) as { versionstr: string };
    assert.equal(version.versionstr, "0.1.0");
    s.child.kill("SIGTERM");
    assert.equal(await withDeadline(s.exited, 20_000, "scheduler exit"), 0);
    assert.equal(s.out().trim().split("\n").length, 1, "stdout holds only the api: line");
    assert.ok(
      !s.err().includes(PASSWORD) && !s.out().includes(PASSWORD),
      "the password never shows",
    );
    assert.match(s.err(), /"msg":"subscribed to mesos"/);
    // The first log line says what it talks to, where its state and API are, what it deploys.
    const first = JSON.parse(s.err().split("\n")[0]!) as Record<string, string>;
    assert.equal(first.master, cluster.masterUrl);
    assert.equal(first.state, join(dir, "state"));
    assert.equal(first.api, "http://127.0.0.1:<any free port>");
    assert.match(
      first.mode!,
      /^provisioning ScaleIO cluster 'scaleio' with 3 MDMs, strategy single-pool \(protection domain pd1, pool default\)$/,
    );
    assert.match(first.msg!, /^starting scaleio-framework 0\.1\.0: Mesos master /);
  },
);

test(
  "refuses to start without the admin password, and on bad configuration, saying why",
  { timeout: 30_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "sched-cli-"));
    const noPw = scheduler(
      ["--master", "http://127.0.0.1:1", "--state-dir", join(dir, "s1"), "--api-port", "0"],
      { SCALEIO_ADMIN_PASSWORD: "" },
    );
    assert.equal(await withDeadline(noPw.exited, 20_000, "exit"), 2);
    // One plain line, as every start-up error: no JSON log line, no list.
    assert.equal(
      noPw.err(),
      "scaleio-framework: invalid configuration: the ScaleIO admin password is required: set SCALEIO_ADMIN_PASSWORD or --admin-password-file\n",
    );
    const bad = scheduler(["--storage-pool", "p;rm -rf /", "--api-port", "eighty"], {
      SCALEIO_ADMIN_PASSWORD: PASSWORD,
    });
    assert.equal(await withDeadline(bad.exited, 20_000, "exit"), 2);
    assert.match(
      bad.err(),
      /^scaleio-framework: invalid configuration: --api-port: expected an integer, got 'eighty'; --storage-pool: may contain only letters[^\n]*\n$/,
    );
    const mdm = scheduler(["--mdm-count", "4"], { SCALEIO_ADMIN_PASSWORD: PASSWORD });
    assert.equal(await withDeadline(mdm.exited, 20_000, "exit"), 2);
    assert.equal(
      mdm.err(),
      "scaleio-framework: invalid configuration: --mdm-count: must be 3 or 5 (got 4)\n",
    );
    const topology = join(dir, "topology.yaml");
    writeFileSync(
      topology,
      "protectionDomains:\n  - name: pd1\n    pools:\n      - name: fast\nconsumers:\n  - protectionDomain: pd1\n    pool: fst\n",
    );
    const topo = scheduler(
      ["--strategy", "declarative", "--topology-file", topology, "--state-dir", join(dir, "s2")],
      { SCALEIO_ADMIN_PASSWORD: PASSWORD },
    );
    assert.equal(await withDeadline(topo.exited, 20_000, "exit"), 2);
    assert.ok(
      topo
        .err()
        .endsWith(
          `scaleio-framework: invalid configuration: ${topology}: consumers.0.pool: unknown pool 'fst' in pd1\n`,
        ),
      topo.err(),
    );
    // Not configuration: exit 1, one line all the same.
    writeFileSync(join(dir, "a-file"), "");
    // (A path holding the password, as any text, has it scrubbed from the line and the log.)
    const state = scheduler(["--state-dir", join(dir, "a-file", PASSWORD), "--api-port", "0"], {
      SCALEIO_ADMIN_PASSWORD: PASSWORD,
    });
    assert.equal(await withDeadline(state.exited, 20_000, "exit"), 1);
    assert.ok(
      // A line of its own (the logger's asynchronous lines may land after it).
      state
        .err()
        .split("\n")
        .includes(
          `scaleio-framework: cannot use the state directory ${join(dir, "a-file", "[redacted]")} (--state-dir): a file is in the way`,
        ),
      state.err(),
    );
    assert.ok(!state.err().includes(PASSWORD), state.err());
    const typo = scheduler(["--mdm-cont", "3"], { SCALEIO_ADMIN_PASSWORD: PASSWORD });
    assert.equal(await withDeadline(typo.exited, 20_000, "exit"), 2);
    assert.equal(
      typo.err(),
      "scaleio-framework: unknown option '--mdm-cont' (Did you mean --mdm-count?)\n",
    );
  },
);

test(
  "an API port in use stops the start with one line and exit 1, not a raw listen error",
  { timeout: 30_000 },
  async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const dir = mkdtempSync(join(tmpdir(), "sched-cli-"));
      const s = scheduler(
        [
          "--master",
          "http://127.0.0.1:1",
          "--state-dir",
          join(dir, "s"),
          "--api-address",
          "127.0.0.1",
          "--api-port",
          String(port),
        ],
        { SCALEIO_ADMIN_PASSWORD: PASSWORD },
      );
      assert.equal(await withDeadline(s.exited, 20_000, "exit"), 1);
      const plain = s
        .err()
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("{"));
      assert.deepEqual(plain, [
        `scaleio-framework: cannot serve the API on 127.0.0.1:${port}: the address is already in use (another scheduler, or another program, listens there); choose another --api-port`,
      ]);
      assert.ok(!s.err().includes("EADDRINUSE"), s.err());
    } finally {
      taken.close();
    }
  },
);

test(
  "scheduler --help shows every flag's default and environment variable",
  { timeout: 30_000 },
  async () => {
    const h = scheduler(["--help"]);
    assert.equal(await withDeadline(h.exited, 20_000, "exit"), 0);
    const help = h.out().replace(/\s+/g, " ");
    for (const flag of Object.keys(OPTIONS)) {
      assert.ok(help.includes(`env: ${envName(flag)})`), `--${flag}: ${envName(flag)} missing`);
    }
    assert.ok(
      help.includes(
        "--api-port <value> port of the operator API (default: 35000; env: SCALEIO_FRAMEWORK_API_PORT)",
      ),
    );
    assert.ok(help.includes("(default: single-pool; env: SCALEIO_FRAMEWORK_STRATEGY)"));
  },
);
