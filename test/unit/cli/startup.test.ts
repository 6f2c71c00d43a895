// What an operator sees when the scheduler starts: each flag's default and variable in the
// help, the first log line, and one line for whatever stops the start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, OPTIONS, envName, loadConfig } from "../../../src/cli/config/load.js";
import { defaultAt } from "../../../src/cli/config/schema-info.js";
import {
  flagHelp,
  listenFailure,
  startLine,
  startupFailure,
  stateFailure,
} from "../../../src/cli/startup.js";

test("every flag's help names its environment variable and, when it has one, its default", () => {
  for (const [flag, spec] of Object.entries(OPTIONS)) {
    const help = flagHelp(flag, spec);
    assert.ok(help.includes(`env: ${envName(flag)}`), help);
    const def = defaultAt(spec.path);
    if (def !== undefined) assert.match(help, /\(default: [^;]+; env: /, help);
    // A default stated twice reads as a mistake.
    assert.ok(!/(\(|; )default[^()]*\) \(default: /.test(help), help);
  }
  assert.equal(
    flagHelp("api-port", OPTIONS["api-port"]!),
    "port of the operator API (default: 35000; env: SCALEIO_FRAMEWORK_API_PORT)",
  );
  assert.equal(
    flagHelp("api-max-connections", OPTIONS["api-max-connections"]!),
    "connections the API serves at once; more are closed at once (0: no cap) (default: 1024; env: SCALEIO_FRAMEWORK_API_MAX_CONNECTIONS)",
  );
});

test("the first log line names the master, the state, the API and the deployment mode", () => {
  const provision = startLine(
    loadConfig({ env: {}, flags: { "state-dir": "/var/lib/sf" } }).config,
    {
      master: "http://m1:5050",
      apiUrl: "http://h1:35000",
      version: "0.1.0",
    },
  );
  assert.equal(
    provision.msg,
    "starting scaleio-framework 0.1.0: Mesos master http://m1:5050, state in /var/lib/sf, API at http://h1:35000, provisioning ScaleIO cluster 'scaleio' with 3 MDMs, strategy single-pool (protection domain default, pool default)",
  );
  assert.equal(provision.fields.state, "/var/lib/sf");
  const existing = startLine(
    loadConfig({
      env: {},
      flags: {
        "mdm-primary": "10.0.0.1",
        "mdm-secondary": "10.0.0.2",
        "mdm-tiebreaker": "10.0.0.3",
        strategy: "imperative",
      },
    }).config,
    { master: "zk://z1:2181/mesos", apiUrl: "http://h1:35000", version: "0.1.0" },
  );
  assert.match(
    existing.fields.mode!,
    /^existing ScaleIO cluster 'scaleio' \(MDMs 10\.0\.0\.1, 10\.0\.0\.2, tie-breaker 10\.0\.0\.3\), strategy imperative/,
  );
});

test("start-up failures are one line: exit 2 for configuration, 1 otherwise", () => {
  assert.deepEqual(startupFailure(new ConfigError(["--mdm-count: must be 3 or 5 (got 4)", "b"])), {
    line: "scaleio-framework: invalid configuration: --mdm-count: must be 3 or 5 (got 4); b",
    exitCode: 2,
  });
  const inUse = Object.assign(new Error("listen EADDRINUSE: address already in use"), {
    code: "EADDRINUSE",
  });
  assert.deepEqual(startupFailure(listenFailure(inUse, "0.0.0.0", 35000)), {
    line: "scaleio-framework: cannot serve the API on 0.0.0.0:35000: the address is already in use (another scheduler, or another program, listens there); choose another --api-port",
    exitCode: 1,
  });
  const denied = Object.assign(new Error("EACCES: permission denied, mkdir '/x'"), {
    code: "EACCES",
  });
  assert.equal(
    startupFailure(stateFailure(denied, "/x/state")).line,
    "scaleio-framework: cannot use the state directory /x/state (--state-dir): permission denied",
  );
  assert.equal(startupFailure(new Error("two\n  lines")).line, "scaleio-framework: two lines");
});
