import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQueryCluster } from "../../../../../src/platforms/scaleio/node/scli.js";
import { parseQueryMdms } from "../../../../../src/platforms/scaleio/node/configure-sdc.js";
import { parsePackageFile } from "../../../../../src/platforms/scaleio/node/common.js";

// reference 3.3, verbatim layout
const QUERY_CLUSTER = `Cluster:
    Mode: 3_node, State: Normal, Active: 3/3, Replicas: 2/2
Master MDM:
    Name: mdm1, ID: 0x3a5c7e9b1d2f4061
        IPs: 10.20.0.11, Management IPs: 10.20.0.11, Port: 9011
        Version: 2.0.6035
Slave MDMs:
    Name: mdm2, ID: 0x7d1b3f5a9c2e4082
        IPs: 10.20.0.12, Management IPs: 10.20.0.12, Port: 9011
        Status: Normal, Version: 2.0.6035
Tie-Breakers:
    Name: tb, ID: 0x5e2a4c6b8d0f1093
        IPs: 10.20.0.13, Port: 9011
        Status: Normal, Version: 2.0.6035
Standby MDMs:
    Name: mdm4, ID: 0x1c3e5a7b9d2f40a4, Manager
        IPs: 10.20.0.14, Management IPs: 10.20.0.14, Port: 9011
`;

test("query_cluster of reference 3.3 parses into mode, state and members", () => {
  const v = parseQueryCluster(QUERY_CLUSTER);
  assert.deepEqual([v.mode, v.state, v.active, v.replicas], ["3_node", "Normal", "3/3", "2/2"]);
  assert.deepEqual(
    v.members.map((m) => [m.name, m.role, m.ips.join(","), m.manager ?? null, m.status ?? null]),
    [
      ["mdm1", "master", "10.20.0.11", null, null],
      ["mdm2", "slave", "10.20.0.12", null, "Normal"],
      ["tb", "tb", "10.20.0.13", null, "Normal"],
      ["mdm4", "standby", "10.20.0.14", true, null],
    ],
  );
  assert.throws(() => parseQueryCluster("garbage"), /unexpected scli --query_cluster output/);
});

test("drv_cfg --query_mdms and package file names", () => {
  assert.deepEqual(
    parseQueryMdms(
      "Retrieved 1 mdm(s)\nMDM-ID 1a2b SDC ID 3c4d INSTALLATION ID 5e6f IPs [0]-10.0.0.1 [1]-10.0.0.2\n",
    ),
    ["10.0.0.1", "10.0.0.2"],
  );
  assert.deepEqual(parsePackageFile("EMC-ScaleIO-mdm-2.0-5014.0.el7.x86_64.rpm"), {
    component: "mdm",
    version: "2.0-5014.0",
    format: "rpm",
  });
  assert.deepEqual(parsePackageFile("emc-scaleio-sdc_2.0-13000.211_amd64.deb"), {
    component: "sdc",
    version: "2.0-13000.211",
    format: "deb",
  });
  assert.equal(parsePackageFile("emc-scaleio-sdc_2.0-13000.211_amd64.tar"), undefined);
});
