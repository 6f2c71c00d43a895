// The observer's lifecycle: stopping waits for a look under way but never starts one (a
// stopped scheduler must not read the gateway on its way out).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterObserver } from "../../../../src/platforms/scaleio/observe/observer.js";
import type { GatewayClient } from "../../../../src/platforms/scaleio/gateway/client.js";

test("stop() starts no observation of its own", async () => {
  let looks = 0;
  const observer = new ClusterObserver({
    client: () => {
      looks += 1;
      return {} as GatewayClient;
    },
  });
  observer.on("failed", () => undefined);
  await observer.stop();
  assert.equal(looks, 0, "no look when none was under way");
  await observer.observe();
  assert.equal(looks, 1);
  const stopping = observer.stop();
  await stopping;
  assert.equal(looks, 1, "the look that was done is not repeated");
});
