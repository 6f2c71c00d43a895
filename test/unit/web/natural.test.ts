// The UI orders hostnames and addresses as the API does: digits as numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
// @ts-expect-error: the web UI is plain JavaScript without type declarations.
import { naturalCompare } from "../../../web/natural.js";
import { naturalCompare as apiCompare } from "../../../src/framework/natural-order.js";

const NAMES = [
  "127.151.1.10",
  "127.151.1.4",
  "127.151.0.250",
  "storage-10.dc1",
  "storage-2.dc1",
  "Storage-1.dc1",
  "host-01",
  "host-1",
  "host-001a",
  "a",
  "",
];

test("addresses and hostnames sort with their numbers as numbers", () => {
  const sorted = [...NAMES].sort(naturalCompare);
  assert.ok(sorted.indexOf("127.151.1.4") < sorted.indexOf("127.151.1.10"));
  assert.ok(sorted.indexOf("127.151.0.250") < sorted.indexOf("127.151.1.4"));
  assert.ok(sorted.indexOf("storage-2.dc1") < sorted.indexOf("storage-10.dc1"));
});

test("the same order as the API's", () => {
  assert.deepEqual([...NAMES].sort(naturalCompare), [...NAMES].sort(apiCompare));
});
