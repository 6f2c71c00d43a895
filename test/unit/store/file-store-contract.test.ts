// The shared store contract against the file store.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import type { StateStore } from "../../../src/store/store.js";
import { storeContract } from "../../support/store-contract.js";

storeContract("file store", {
  open: () => FileStateStore.open(mkdtempSync(join(tmpdir(), "store-contract-"))),
  async reopen(store: StateStore) {
    await store.close();
    return FileStateStore.open((store as FileStateStore).dir);
  },
});
