// The MDM packages and the cluster step against the emulator's node side (real child
// processes for rpm and scli): build, re-run without change, recover from a crash mid-way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { startEmuNodes, type EmuNodes } from "../../../../support/scaleio-node.js";
import { data, step } from "../../../../support/node-steps.js";
import { run } from "../../../../../src/host/process.js";
import type { ProgramRunner } from "../../../../../src/host/profile.js";

const PW = "Pw-$(reboot);`id`|x";
const IPS = ["10.40.0.1", "10.40.0.2", "10.40.0.3"] as const;
const CLUSTER = {
  primary: { ip: IPS[0], name: "mdm1" },
  secondaries: [{ ip: IPS[1], name: "mdm2" }],
  tiebreakers: [{ ip: IPS[2], name: "tb" }],
  systemName: "scaleio",
};

// Async on purpose: the emulator answers the tool from this very process.
function scliOn(n: EmuNodes, ip: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile("scli", args, { env: { ...process.env, ...n.envOf(ip) } }, (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
}

async function installMdms(n: EmuNodes) {
  for (const [i, ip] of IPS.entries()) {
    const r = await step(n, ip, "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      version: "2.0-6035.0",
      mdmRole: i < 2 ? "manager" : "tiebreaker",
    });
    assert.equal(data(r).changed, true);
    assert.equal(r.secretFetches, 0, "the MDM install needs no secret");
  }
}

test("install MDMs on 3 nodes, build the 3_node cluster, run it again: no change", async () => {
  const n = await startEmuNodes();
  try {
    await installMdms(n);
    const again = await step(n, IPS[0], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    assert.deepEqual(data(again).changed, false);
    const wrongRole = await step(n, IPS[2], "scaleio.install-package", {
      component: "mdm",
      url: n.rpmUrl("mdm"),
      mdmRole: "manager",
    });
    assert.equal(wrongRole.result.ok, false);
    assert.match((wrongRole.result as { error: string }).error, /installed as a tiebreaker/);

    const built = await step(n, IPS[0], "scaleio.mdm-cluster", CLUSTER, { password: PW });
    const d = data<{ mode: string; state: string; changed: boolean; actions: string[] }>(built);
    assert.equal(d.mode, "3_node");
    assert.equal(d.state, "Normal");
    assert.equal(d.changed, true);
    assert.ok(!JSON.stringify(built).includes(PW), "the password is in no result or progress");
    assert.match(
      await scliOn(n, IPS[0], ["--query_cluster"]),
      /Mode: 3_node, State: Normal, Active: 3\/3, Replicas: 2\/2/,
    );
    assert.equal(n.emu.sys.name, "scaleio");
    assert.ok(n.emu.sys.authenticate("admin", PW), "the admin password was set");

    const rerun = await step(n, IPS[0], "scaleio.mdm-cluster", CLUSTER, { password: PW });
    assert.deepEqual(data(rerun).changed, false);
    assert.deepEqual(data(rerun).actions, []);
  } finally {
    await n.close();
  }
});

test("scli never gets the admin password in its arguments: it reads it on standard input", async () => {
  const n = await startEmuNodes();
  try {
    await installMdms(n);
    // What every local user can read in /proc/<pid>/cmdline: each program and its arguments.
    const ran: { program: string; args: string[]; input?: string }[] = [];
    const recording: ProgramRunner = (program, args, opts = {}) => {
      ran.push({
        program,
        args,
        ...(opts.input !== undefined ? { input: String(opts.input) } : {}),
      });
      return run(program, args, opts);
    };
    const built = await step(n, IPS[0], "scaleio.mdm-cluster", CLUSTER, {
      password: PW,
      run: recording,
    });
    assert.equal(data(built).mode, "3_node");
    assert.ok(n.emu.sys.authenticate("admin", PW), "the password set through stdin works");
    const sclis = ran.filter((r) => r.program === "scli");
    assert.ok(sclis.length >= 8, "the whole sequence ran through scli");
    for (const r of sclis) {
      assert.ok(!r.args.join(" ").includes(PW), `no password in: scli ${r.args.join(" ")}`);
      assert.ok(!r.args.includes("--password") && !r.args.includes("--new_password"));
    }
    const logins = sclis.filter((r) => r.args.includes("--login"));
    assert.deepEqual(
      logins.map((r) => r.input),
      [`${PW}\n`, "admin\n", `${PW}\n`],
      "configured password refused, initial one accepted, then the new one",
    );
    const set = sclis.find((r) => r.args.includes("--set_password"));
    assert.deepEqual(set?.args, ["--set_password", "--old_password", "admin"]);
    assert.equal(set?.input, `${PW}\n${PW}\n`);
  } finally {
    await n.close();
  }
});

test("a crash after any scli call is recovered by running the step again", async () => {
  const n = await startEmuNodes();
  try {
    await installMdms(n);
    // by hand: the first three calls of the sequence, then the step
    await scliOn(n, IPS[0], [
      "--create_mdm_cluster",
      "--master_mdm_ip",
      IPS[0],
      "--master_mdm_management_ip",
      IPS[0],
      "--master_mdm_name",
      "mdm1",
      "--accept_license",
      "--approve_certificate",
    ]);
    await scliOn(n, IPS[0], ["--login", "--username", "admin", "--password", "admin"]);
    const first = await step(n, IPS[0], "scaleio.mdm-cluster", CLUSTER, { password: PW });
    assert.equal(data(first).mode, "3_node");
    assert.ok(!data<{ actions: string[] }>(first).actions.includes("create the MDM cluster"));
  } finally {
    await n.close();
  }
  // aborted (KILL) at every boundary in turn: each next run completes from where it stopped
  const boundaries = [
    "log in",
    "set the admin password",
    "log in with the new password",
    "add standby manager",
    "add standby tie-breaker",
    "switch the cluster",
  ];
  for (const at of boundaries) {
    const m = await startEmuNodes();
    try {
      await installMdms(m);
      const ac = new AbortController();
      const cut = await step(m, IPS[0], "scaleio.mdm-cluster", CLUSTER, {
        password: PW,
        signal: ac.signal,
        onProgress: (msg) => {
          if (msg.startsWith(at)) ac.abort(new Error("killed"));
        },
      });
      assert.equal(cut.result.ok, false, `aborted at '${at}'`);
      assert.match((cut.result as { error: string }).error, /aborted/);
      const done = await step(m, IPS[0], "scaleio.mdm-cluster", CLUSTER, { password: PW });
      assert.equal(data(done).mode, "3_node", `completes after a cut at '${at}'`);
      assert.equal(data(done).state, "Normal");
      assert.equal(m.emu.sys.cluster.members.length, 3, "no duplicate member");
    } finally {
      await m.close();
    }
  }
});

test("bad cluster params are permanent failures; the password never shows in errors", async () => {
  const n = await startEmuNodes();
  try {
    const bad = await step(
      n,
      IPS[0],
      "scaleio.mdm-cluster",
      { ...CLUSTER, primary: { ip: IPS[0], name: "mdm1;reboot" } },
      { password: PW },
    );
    assert.equal(bad.result.ok, false);
    assert.equal((bad.result as { permanent?: boolean }).permanent, true);
    assert.match((bad.result as { error: string }).error, /primary\.name/);
    const shape = await step(n, IPS[0], "scaleio.mdm-cluster", { ...CLUSTER, tiebreakers: [] });
    assert.match((shape.result as { error: string }).error, /tiebreakers/);
    // no MDM package anywhere: create fails; the error carries no password
    const fail = await step(n, IPS[0], "scaleio.mdm-cluster", CLUSTER, { password: PW });
    assert.equal(fail.result.ok, false);
    assert.ok(!(fail.result as { error: string }).error.includes(PW));
    assert.notEqual((fail.result as { permanent?: boolean }).permanent, true);
  } finally {
    await n.close();
  }
});
