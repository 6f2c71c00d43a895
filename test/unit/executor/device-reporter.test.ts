// The executor's periodic device scan: sends a report when the devices differ from what it
// last sent, stays quiet otherwise, re-sends after a resubscription, survives a failed scan.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { DeviceReporter, scanIntervalFromEnv } from "../../../src/executor/device-reporter.js";

test("reports changes only; forget() re-sends; a failing scan is logged and retried later", async () => {
  let devices = "a";
  let fail = false;
  const sent: string[] = [];
  const r = new DeviceReporter({
    intervalSeconds: 3600,
    scan: async () => {
      if (fail) throw new Error("lsblk failed");
      return devices;
    },
    send: async (m) => void sent.push(m),
    log: pino({ level: "silent" }),
  });
  await r.scanOnce();
  await r.scanOnce();
  assert.deepEqual(sent, ["a"]);
  devices = "b";
  await r.scanOnce();
  assert.deepEqual(sent, ["a", "b"]);
  r.forget();
  await r.scanOnce();
  assert.deepEqual(sent, ["a", "b", "b"]);
  fail = true;
  await r.scanOnce();
  assert.equal(sent.length, 3);
  r.stop();
});

test("the interval comes from the environment: default 300 s, 0 turns it off, junk is refused", () => {
  assert.equal(scanIntervalFromEnv({}), 300);
  assert.equal(scanIntervalFromEnv({ SCALEIO_FRAMEWORK_DEVICE_SCAN_INTERVAL: "0" }), 0);
  assert.equal(scanIntervalFromEnv({ SCALEIO_FRAMEWORK_DEVICE_SCAN_INTERVAL: "15" }), 15);
  assert.throws(
    () => scanIntervalFromEnv({ SCALEIO_FRAMEWORK_DEVICE_SCAN_INTERVAL: "5m" }),
    /whole seconds/,
  );
});
