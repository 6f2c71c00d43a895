// The consumers phase with a REX-Ray download configured: the agent's REX-Ray step writes the
// configuration, then installs, starts and proves REX-Ray (one more node step), and says what
// it found; another download runs it again; the isolator waits for it (dvdcli comes with it).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildDeployPlan,
  rexrayText,
  type DeployPorts,
  type HostFacts,
  type RexraySettings,
} from "../../../../src/platforms/scaleio/deploy-plan.js";
import type { StepContext } from "../../../../src/framework/plan/types.js";
import { planStorage } from "../../../../src/platforms/scaleio/topology/storage.js";
import type { AgentFacts } from "../../../../src/platforms/scaleio/topology/facts.js";

const agents: AgentFacts[] = [1, 2, 3].map((n) => ({
  agentId: `S${n}`,
  hostname: `node-${n}`,
  ip: `10.0.0.${n}`,
  attributes: {},
  resources: { cpus: 4, memMb: 8192 },
  faultDomain: { region: "r", zone: `z${n}` },
}));
const devices = [{ path: "/dev/sdb", sizeBytes: 2 ** 37, usable: true }];
const INSTALL = {
  rexrayUrl: "https://dl.example.com/rexray/stable/0.11.4/rexray-Linux-x86_64-0.11.4.tar.gz",
  dvdcliUrl: "https://dl.example.com/dvdcli-Linux-x86_64-0.3.1.tar.gz",
};

function plan(rexray: Partial<RexraySettings>, ports: Partial<DeployPorts> = {}) {
  const withDevices = agents.map((a) => ({ ...a, devices }));
  return buildDeployPlan(
    {
      agents,
      facts: new Map(
        agents.map((a) => [
          a.agentId,
          { packageFormat: "rpm", devices, installed: {} } as HostFacts,
        ]),
      ),
      existingManagers: ["10.0.0.9"],
      layout: planStorage(withDevices, {
        strategy: "single-pool",
        protectionDomain: "pd1",
        storagePool: "sp1",
      }),
      systemName: "s",
      packageUrl: () => "http://repo/x.rpm",
      rexray: {
        endpoint: "https://gw/api",
        insecure: false,
        thinOrThick: "ThinProvisioned",
        ...rexray,
      },
      isolator: { mode: "docker-volume" },
    },
    ports as DeployPorts,
  );
}

const steps = (p: ReturnType<typeof plan>) =>
  new Map(p.phases.flatMap((ph) => ph.steps).map((s) => [s.id, s]));

const ctx = (): StepContext => ({
  planId: "deploy",
  stepId: "rexray/S1",
  signal: new AbortController().signal,
  attempt: 1,
  progress: () => undefined,
});

test("with a download, the REX-Ray step installs and proves REX-Ray after writing its configuration", async () => {
  const calls: { kind: string; params: unknown; secrets?: string[] }[] = [];
  const p = plan(
    { install: INSTALL },
    {
      async node(_agent, kind, params, _ctx, o) {
        calls.push({ kind, params, ...(o?.secrets ? { secrets: o.secrets } : {}) });
        if (kind === "scaleio.rexray-install")
          return {
            rexray: { path: "/usr/bin/rexray", changed: true, version: "0.11.4" },
            dvdcli: { path: "/usr/bin/dvdcli", changed: true },
            service: { init: "systemd", changed: true, active: true },
            volumes: ["pgdata", "logs"],
          };
        return { path: "/etc/rexray/config.yml", changed: true };
      },
    },
  );
  const text = await steps(p).get("rexray/S1")!.run(ctx());
  assert.deepEqual(
    calls.map((c) => c.kind),
    ["scaleio.rexray-config", "scaleio.rexray-install"],
  );
  assert.deepEqual(calls[0]!.secrets, ["adminPassword"], "the config holds the password");
  assert.equal(calls[1]!.secrets, undefined, "the install needs no secret");
  assert.deepEqual(calls[1]!.params, INSTALL);
  assert.equal(
    text,
    "REX-Ray 0.11.4 installed, service rexray running (systemd), dvdcli installed; lists 2 volumes through the ScaleIO driver",
  );
});

test("without a download the step writes the configuration only, and says so", async () => {
  const kinds: string[] = [];
  const p = plan({}, { node: async (_a, kind) => (kinds.push(kind), {}) });
  const text = await steps(p).get("rexray/S1")!.run(ctx());
  assert.deepEqual(kinds, ["scaleio.rexray-config"]);
  assert.match(String(text), /no REX-Ray download set/);
});

test("another download runs the REX-Ray step again; the isolator step waits for it", () => {
  const none = steps(plan({}));
  const one = steps(plan({ install: INSTALL }));
  const other = steps(
    plan({ install: { ...INSTALL, rexrayUrl: INSTALL.rexrayUrl.replace(/0\.11\.4/g, "0.11.3") } }),
  );
  assert.notEqual(one.get("rexray/S1")!.fingerprint, none.get("rexray/S1")!.fingerprint);
  assert.notEqual(other.get("rexray/S1")!.fingerprint, one.get("rexray/S1")!.fingerprint);
  assert.equal(
    steps(plan({ install: { ...INSTALL } })).get("rexray/S1")!.fingerprint,
    one.get("rexray/S1")!.fingerprint,
  );
  for (const a of agents)
    assert.deepEqual(one.get(`isolator/${a.agentId}`)!.after, [`rexray/${a.agentId}`]);
});

test("the step's text: an unchanged REX-Ray is 'in place', one volume is singular", () => {
  assert.equal(
    rexrayText({ rexray: { changed: false }, service: { init: "sysv" }, volumes: ["a"] }),
    "REX-Ray in place, service rexray running (sysv); lists 1 volume through the ScaleIO driver",
  );
});
