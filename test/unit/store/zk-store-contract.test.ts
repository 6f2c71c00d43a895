// The shared store contract against the ZooKeeper store, on a real ZooKeeper on loopback.
import { after, before } from "node:test";
import { ZkStateStore } from "../../../src/store/zk-store.js";
import type { StateStore } from "../../../src/store/store.js";
import { storeContract } from "../../support/store-contract.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";

let server: ZooKeeperServer;
let n = 0;

before(async () => {
  server = await ZooKeeperServer.start();
});
after(async () => {
  await server?.destroy();
});

storeContract("ZooKeeper store", {
  open: () => ZkStateStore.open(server.zkUrl(`/contract-${++n}/scaleio-framework`)),
  async reopen(store: StateStore) {
    await store.close();
    return ZkStateStore.open(server.zkUrl((store as ZkStateStore).root));
  },
});
