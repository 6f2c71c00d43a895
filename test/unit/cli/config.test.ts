import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { ConfigError, loadConfig } from "../../../src/cli/config/load.js";
import { translateLegacyArgs } from "../../../src/cli/config/aliases.js";
import { Command } from "commander";

const dir = mkdtempSync(join(tmpdir(), "cfg-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected a ConfigError");
}

test("defaults follow the predecessor: role scaleio, pool and domain 'default', 1.5 CPU / 3072 MB on MDM nodes", () => {
  const { config } = loadConfig({ env: {} });
  assert.equal(config.mesos.role, "scaleio");
  assert.equal(config.scaleio.protectionDomain, "default");
  assert.equal(config.scaleio.storagePool, "default");
  assert.equal(config.scaleio.clusterName, "scaleio");
  assert.deepEqual(config.executor, {
    mdm: { cpus: 1.5, memMb: 3072 },
    other: { cpus: 0.5, memMb: 512 },
    launch: "node",
    deviceScanSeconds: 300,
    env: {},
  });
  // Growth and volume-driver defaults: thin volumes, no agent restart unless asked.
  assert.equal(config.scaleio.thinOrThick, "ThinProvisioned");
  assert.equal(config.scaleio.isolatorRestartAgent, false);
  assert.equal(config.scaleio.isolatorMode, undefined);
  assert.equal(config.mesos.failoverTimeoutSeconds, 604800);
  assert.equal(config.scaleio.gateway.insecure, false);
  assert.equal(config.api.port, 35000);
});

test("YAML < environment < flags", () => {
  const path = file(
    "a.yaml",
    "mesos:\n  master: zk://127.0.0.1:2181/mesos\n  role: storage\nscaleio:\n  storagePool: yamlpool\n  mdmCount: 5\n",
  );
  const { config } = loadConfig({
    file: path,
    env: { SCALEIO_FRAMEWORK_STORAGE_POOL: "envpool", SCALEIO_FRAMEWORK_API_PORT: "8080" },
    flags: { "storage-pool": "flagpool" },
  });
  assert.equal(config.mesos.master, "zk://127.0.0.1:2181/mesos");
  assert.equal(config.mesos.role, "storage");
  assert.equal(config.scaleio.storagePool, "flagpool");
  assert.equal(config.scaleio.mdmCount, 5);
  assert.equal(config.api.port, 8080);
});

test("a predecessor Marathon command line still works", () => {
  const legacy = [
    "-loglevel=debug",
    "-rest.port=31234",
    "-uri=10.0.0.5:5050",
    "-scaleio.password=Scaleio123",
    "-scaleio.protectiondomain=pd1",
    "-scaleio.storagepool",
    "sp1",
    "-scaleio.preconfig.primary=10.0.0.11",
    "-scaleio.preconfig.secondary=10.0.0.12",
    "-scaleio.preconfig.tiebreaker=10.0.0.13",
    "-scaleio.preconfig.gateway=10.0.0.14",
    "-executor.mem.mdm=4096",
    "-debug",
    "-store.type",
    "zk",
  ];
  const { argv, notices } = translateLegacyArgs(legacy);
  const program = new Command().exitOverride().allowUnknownOption(false);
  for (const name of [
    "log-level",
    "api-port",
    "master",
    "admin-password",
    "protection-domain",
    "storage-pool",
    "mdm-primary",
    "mdm-secondary",
    "mdm-tiebreaker",
    "gateway",
    "executor-mem-mdm",
  ]) {
    program.option(`--${name} <value>`);
  }
  program.parse(argv, { from: "user" });
  const loaded = loadConfig({ flags: program.opts(), env: {} });
  const { config, secrets } = loaded;
  assert.equal(config.logLevel, "debug");
  assert.equal(config.api.port, 31234);
  assert.equal(config.mesos.master, "10.0.0.5:5050");
  assert.equal(config.scaleio.protectionDomain, "pd1");
  assert.equal(config.scaleio.storagePool, "sp1");
  assert.deepEqual(config.scaleio.existing, {
    primary: "10.0.0.11",
    secondary: "10.0.0.12",
    tiebreaker: "10.0.0.13",
    gateway: "10.0.0.14",
  });
  assert.equal(config.executor.mdm.memMb, 4096);
  assert.equal(secrets.adminPassword!.reveal(), "Scaleio123");
  assert.ok(notices.some((n) => n.includes("process listings")));
  assert.ok(notices.some((n) => n.startsWith("ignoring -debug")));
  assert.ok(notices.some((n) => n.startsWith("ignoring -store.type")));
  for (const text of [JSON.stringify(loaded), inspect(loaded, { depth: 9 })])
    assert.ok(!text.includes("Scaleio123"), text);
});

test("secrets come from files or the environment and never show", () => {
  const pw = file("pw", "s3cret-admin\n");
  const { secrets } = loadConfig({
    flags: { "admin-password-file": pw },
    env: { SCALEIO_FRAMEWORK_API_TOKEN: "tok-123456" },
  });
  assert.equal(secrets.adminPassword!.reveal(), "s3cret-admin");
  assert.equal(secrets.apiToken!.reveal(), "tok-123456");
  assert.equal(JSON.stringify(secrets), '{"adminPassword":"[redacted]","apiToken":"[redacted]"}');
  assert.equal(
    loadConfig({ env: { SCALEIO_ADMIN_PASSWORD: "from-env" } }).secrets.adminPassword!.reveal(),
    "from-env",
  );
  assert.match(
    problemsOf(() =>
      loadConfig({ flags: { "admin-password-file": join(dir, "nope") }, env: {} }),
    )[0]!,
    /cannot read the admin password file .*ENOENT/,
  );
});

test("a secret written into the YAML file is refused, and the value is not echoed", () => {
  const path = file("bad.yaml", "scaleio:\n  adminPassword: hunter2\n");
  const problems = problemsOf(() => loadConfig({ file: path, env: {} }));
  assert.match(problems[0]!, /'scaleio.adminPassword' looks like a secret/);
  assert.ok(!problems.join().includes("hunter2"));
});

test("bad input names the field and says what is wrong", () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: { SCALEIO_FRAMEWORK_API_PORT: "eighty" },
      flags: {
        "storage-pool": "pool; rm -rf /",
        "mdm-count": "4",
        "gateway-insecure": "maybe",
        role: "*",
        "mdm-primary": "10.0.0.1",
      },
    }),
  );
  const text = problems.join("\n");
  assert.match(text, /SCALEIO_FRAMEWORK_API_PORT: expected an integer, got 'eighty'/);
  assert.match(text, /--gateway-insecure: expected true or false, got 'maybe'/);
  assert.match(text, /--storage-pool: may contain only letters/);
  assert.match(text, /--mdm-count: must be 3 or 5 \(got 4\)/);
  assert.match(text, /--role: is not a valid Mesos role/);
  assert.match(text, /scaleio.existing.secondary: is required \(--mdm-secondary/);
});

test("bad YAML, unknown keys, unknown flags and contradictions are reported", () => {
  assert.match(
    problemsOf(() => loadConfig({ file: file("broken.yaml", "mesos: [unclosed\n"), env: {} }))[0]!,
    /broken.yaml/,
  );
  assert.match(
    problemsOf(() => loadConfig({ file: file("unk.yaml", "mesos:\n  mastr: x\n"), env: {} }))[0]!,
    /unk\.yaml:2 mesos\.mastr: unknown key; did you mean 'master'\?/,
  );
  assert.match(
    problemsOf(() => loadConfig({ file: file("list.yaml", "- a\n"), env: {} }))[0]!,
    /top level must be a mapping/,
  );
  assert.match(
    problemsOf(() => loadConfig({ flags: { frobnicate: "1" }, env: {} }))[0]!,
    /unknown option --frobnicate/,
  );
  assert.match(
    problemsOf(() => loadConfig({ flags: { strategy: "declarative" }, env: {} }))[0]!,
    /scaleio.topologyFile: is required when scaleio.strategy is declarative/,
  );
  assert.match(
    problemsOf(() =>
      loadConfig({
        flags: { "mdm-primary": "a1", "mdm-secondary": "a1", "mdm-tiebreaker": "a2" },
        env: {},
      }),
    )[0]!,
    /--mdm-primary|scaleio\.existing: primary, secondary and tiebreaker must be three different addresses/,
  );
  assert.match(
    problemsOf(() => loadConfig({ file: join(dir, "missing.yaml"), env: {} }))[0]!,
    /cannot read configuration file .*ENOENT/,
  );
});

test("the API's HTTP limits have defaults and come from flags, the environment or YAML", () => {
  const d = loadConfig({ env: {} }).config.api.limits;
  assert.deepEqual(d, {
    maxConnections: 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 120_000,
    keepAliveTimeoutMs: 72_000,
    maxRequestsPerSocket: 1000,
  });
  const { config } = loadConfig({
    env: { SCALEIO_FRAMEWORK_API_MAX_CONNECTIONS: "50" },
    flags: { apiRequestTimeoutMs: "5000", "api-headers-timeout-ms": "2000" },
    file: file("limits.yaml", "api:\n  limits:\n    idleTimeoutMs: 0\n"),
  });
  assert.equal(config.api.limits.maxConnections, 50);
  assert.equal(config.api.limits.requestTimeoutMs, 5000);
  assert.equal(config.api.limits.headersTimeoutMs, 2000);
  assert.equal(config.api.limits.idleTimeoutMs, 0);
  const problems = problemsOf(() =>
    loadConfig({
      env: {},
      flags: {
        "api-headers-timeout-ms": "20000",
        "api-request-timeout-ms": "10000",
        "api-idle-timeout-ms": "5000",
        "api-max-connections": "-1",
      },
    }),
  );
  assert.ok(problems.some((p) => /--api-headers-timeout-ms: must not exceed/.test(p)));
  assert.ok(problems.some((p) => /--api-idle-timeout-ms: must be 0 \(never\)/.test(p)));
  assert.ok(problems.some((p) => /--api-max-connections: must be an integer from 0/.test(p)));
});

test("flag names that are prototype properties are unknown flags, not lookups", () => {
  assert.deepEqual(translateLegacyArgs(["-constructor", "-toString=1"]).argv, [
    "-constructor",
    "-toString=1",
  ]);
  const problems = problemsOf(() =>
    loadConfig({ env: {}, flags: { constructor: "x", ["__proto__"]: "y", toString: "z" } }),
  );
  assert.ok(problems.includes("unknown option --constructor"), problems.join("; "));
  assert.ok(problems.includes("unknown option --to-string"), problems.join("; "));
});

test("TLS for the API: certificate and key together, from flags, the environment or YAML", () => {
  const { config } = loadConfig({
    env: { SCALEIO_FRAMEWORK_API_TLS_KEY: "/etc/scaleio/api.key" },
    flags: { "api-tls-cert": "/etc/scaleio/api.pem", "api-tls-ca": "/etc/scaleio/ca.pem" },
  });
  assert.equal(config.api.tlsCertFile, "/etc/scaleio/api.pem");
  assert.equal(config.api.tlsKeyFile, "/etc/scaleio/api.key");
  assert.equal(config.api.tlsCaFile, "/etc/scaleio/ca.pem");
  assert.equal(loadConfig({ env: {} }).config.api.tlsCertFile, undefined, "off by default");
  assert.match(
    problemsOf(() => loadConfig({ env: {}, flags: { "api-tls-cert": "/x.pem" } })).join("\n"),
    /api\.tlsKeyFile: TLS needs both a certificate and its key/,
  );
  assert.match(
    problemsOf(() => loadConfig({ env: {}, flags: { "api-tls-ca": "/ca.pem" } })).join("\n"),
    /--api-tls-ca: is only used with --api-tls-cert/,
  );
  const yaml = file("tls.yaml", "api:\n  tlsCertFile: /a.pem\n  tlsKeyFile: /a.key\n");
  assert.equal(loadConfig({ env: {}, file: yaml }).config.api.tlsKeyFile, "/a.key");
});

test("the predecessor's AWS growth flags map onto capacity remediation, each with a notice", () => {
  const parse = (legacy: string[]) => {
    const { argv, notices } = translateLegacyArgs(legacy);
    const program = new Command().exitOverride().allowUnknownOption(false);
    for (const name of [
      "auto-grow",
      "capacity-warning-percent",
      "capacity-critical-percent",
      "capacity-growth-gb",
    ])
      program.option(`--${name} <value>`);
    program.parse(argv, { from: "user" });
    return { config: loadConfig({ flags: program.opts(), env: {} }).config, notices };
  };
  const { config, notices } = parse([
    "-aws.checkfull=5",
    "-aws.threshold=85",
    "-aws.growthsize",
    "64",
  ]);
  // -aws.checkfull was the minutes between the predecessor's checks: nothing to set here.
  assert.equal(config.health.autoGrow, "off");
  assert.equal(config.health.capacityWarningPercent, 85);
  assert.equal(config.health.capacityCriticalPercent, 90);
  assert.equal(config.health.growthGb, 64);
  assert.ok(
    notices.some((n) =>
      /^-aws\.checkfull \(minutes between fullness checks\).*every observation/.test(n),
    ),
  );
  assert.ok(
    notices.some((n) => /^-aws\.threshold is --capacity-warning-percent.*non-spare/.test(n)),
  );
  assert.ok(notices.some((n) => /^-aws\.growthsize is --capacity-growth-gb/.test(n)));
  // Its value given as the next argument is its own, not a stray argument.
  assert.equal(parse(["-aws.checkfull", "5"]).config.health.autoGrow, "off");

  // The predecessor's default threshold (90) is our critical one: critical moves above it.
  const high = parse(["-aws.threshold", "90"]);
  assert.equal(high.config.health.capacityWarningPercent, 90);
  assert.equal(high.config.health.capacityCriticalPercent, 95);
  assert.ok(high.notices.some((n) => n.includes("--capacity-critical-percent set to 95")));
  // An operator's own critical threshold is left as given.
  const own = parse(["-aws.threshold=92", "--capacity-critical-percent", "99"]);
  assert.equal(own.config.health.capacityCriticalPercent, 99);
});

test("the predecessor's AWS keys go to the capacity hook's command as secrets, never shown", () => {
  const { argv, notices } = translateLegacyArgs([
    "-aws.accesskey=AKIAEXAMPLE",
    "-aws.secretkey",
    "wJalrXUtnFEMI-example",
  ]);
  const program = new Command().exitOverride().allowUnknownOption(false);
  for (const name of ["aws-access-key-id", "aws-secret-access-key"])
    program.option(`--${name} <value>`);
  program.parse(argv, { from: "user" });
  const loaded = loadConfig({ flags: program.opts(), env: {} });
  assert.equal(loaded.secrets.awsAccessKeyId!.reveal(), "AKIAEXAMPLE");
  assert.equal(loaded.secrets.awsSecretAccessKey!.reveal(), "wJalrXUtnFEMI-example");
  assert.ok(notices.some((n) => n.startsWith("-aws.accesskey goes to the --capacity-hook")));
  assert.ok(
    loaded.notices.some((n) => /AWS secret access key was given on the command line/.test(n)),
  );
  for (const text of [JSON.stringify(loaded), inspect(loaded, { depth: 9 }), ...loaded.notices])
    assert.ok(!text.includes("wJalrXUtnFEMI") && !text.includes("AKIAEXAMPLE"), text);
  // The AWS tools' own variables work too.
  const env = loadConfig({
    flags: {},
    env: { AWS_ACCESS_KEY_ID: "AK2", AWS_SECRET_ACCESS_KEY: "SK2" },
  }).secrets;
  assert.equal(env.awsSecretAccessKey!.reveal(), "SK2");
});

test("the predecessor's own example command lines are accepted", () => {
  // From its demo Marathon definition (with the memory flag's first name) and its
  // experimental guide (AWS growth).
  for (const line of [
    "-loglevel=debug -rest.port=31000 -uri=10.0.0.21:5050 -scaleio.password=F00barbaz -scaleio.protectiondomain=default -scaleio.storagepool=default -scaleio.preconfig.primary=10.0.0.12 -scaleio.preconfig.secondary=10.0.0.11 -scaleio.preconfig.tiebreaker=10.0.0.13 -scaleio.preconfig.gateway=10.0.0.11 -executor.memory.non=256 -executor.cpu.non=0.5",
    "-loglevel=debug -experimental=true -rest.port=31000 -uri=10.0.0.21:5050 -aws.accesskey=AK -aws.secretkey=SK",
  ]) {
    const { argv } = translateLegacyArgs(line.split(" "));
    const program = new Command().exitOverride().allowUnknownOption(false);
    for (const name of [
      "log-level",
      "api-port",
      "master",
      "admin-password",
      "protection-domain",
      "storage-pool",
      "mdm-primary",
      "mdm-secondary",
      "mdm-tiebreaker",
      "gateway",
      "executor-mem-non",
      "executor-cpu-non",
      "aws-access-key-id",
      "aws-secret-access-key",
    ])
      program.option(`--${name} <value>`);
    program.parse(argv, { from: "user" });
    const { config } = loadConfig({ flags: program.opts(), env: {} });
    assert.equal(config.mesos.master, "10.0.0.21:5050", line);
  }
});

test("capacity settings: growth, hook and webhook checked", () => {
  const { config } = loadConfig({
    env: {},
    flags: {
      "capacity-growth-gb": "200",
      "capacity-hook": "/usr/local/bin/grow-pool",
      "alert-webhook": "https://alerts.example.com/hook",
    },
  });
  assert.equal(config.health.growthGb, 200);
  assert.equal(config.health.capacityHook, "/usr/local/bin/grow-pool");
  assert.equal(loadConfig({ env: {} }).config.health.growthGb, undefined);
  const problems = problemsOf(() =>
    loadConfig({
      env: {},
      flags: { "capacity-growth-gb": "0", "capacity-hook": "grow.sh", "alert-webhook": "ftp://x" },
    }),
  );
  assert.ok(
    problems.some((p) =>
      /--capacity-growth-gb: must be an integer from 1 to 1048576 \(got 0\)/.test(p),
    ),
    problems.join("; "),
  );
  assert.ok(problems.some((p) => /--capacity-hook: must be an absolute path/.test(p)));
  assert.ok(problems.some((p) => /--alert-webhook: must be an http\(s\) URL/.test(p)));
});

test("the repair backoff's first wait: 30 s by default, from a flag or the environment, checked", () => {
  assert.equal(loadConfig({ env: {} }).config.health.repairBackoffInitialMs, 30_000);
  const flag = loadConfig({ env: {}, flags: { "repair-backoff-initial-ms": "2000" } });
  assert.equal(flag.config.health.repairBackoffInitialMs, 2000);
  const env = loadConfig({ env: { SCALEIO_FRAMEWORK_REPAIR_BACKOFF_INITIAL_MS: "5000" } });
  assert.equal(env.config.health.repairBackoffInitialMs, 5000);
  const problems = problemsOf(() =>
    loadConfig({ env: {}, flags: { "repair-backoff-initial-ms": "10" } }),
  );
  assert.ok(
    problems.some((p) => /--repair-backoff-initial-ms: must be an integer from 100/.test(p)),
    problems.join("; "),
  );
});
