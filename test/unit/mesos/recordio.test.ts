import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordIODecoder, encodeRecord, readRecords } from "../../../src/mesos/recordio.js";
import { RecordIOError } from "../../../src/mesos/errors.js";

// The worked example of the reference (section 1.3), byte for byte.
const SUBSCRIBED =
  '{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-0007"},"heartbeat_interval_seconds":15}}';
const HEARTBEAT = '{"type":"HEARTBEAT"}';
const ERROR = '{"type":"ERROR","error":{"message":"rôle refusé"}}';
const EXAMPLE = Buffer.from(`137\n${SUBSCRIBED}20\n${HEARTBEAT}52\n${ERROR}`, "utf8");

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

test("worked example decodes to three records and is 219 bytes", () => {
  assert.equal(EXAMPLE.length, 219);
  const d = new RecordIODecoder();
  const records = d.push(EXAMPLE).map(text);
  assert.deepEqual(records, [SUBSCRIBED, HEARTBEAT, ERROR]);
  assert.equal(Buffer.byteLength(ERROR), 52);
  assert.equal(ERROR.length, 50);
  d.end();
});

test("encoder reproduces the worked example", () => {
  const encoded = Buffer.concat([SUBSCRIBED, HEARTBEAT, ERROR].map((r) => encodeRecord(r)));
  assert.deepEqual(encoded, EXAMPLE);
});

test("every split point of the worked example, including inside digits and UTF-8", () => {
  for (let a = 0; a <= EXAMPLE.length; a++) {
    for (let b = a; b <= EXAMPLE.length; b += 7) {
      const d = new RecordIODecoder();
      const out = [
        ...d.push(EXAMPLE.subarray(0, a)),
        ...d.push(EXAMPLE.subarray(a, b)),
        ...d.push(EXAMPLE.subarray(b)),
      ].map(text);
      assert.deepEqual(out, [SUBSCRIBED, HEARTBEAT, ERROR], `split at ${a},${b}`);
    }
  }
});

test("one byte at a time", () => {
  const d = new RecordIODecoder();
  const out: string[] = [];
  for (const byte of EXAMPLE) out.push(...d.push(Uint8Array.of(byte)).map(text));
  assert.deepEqual(out, [SUBSCRIBED, HEARTBEAT, ERROR]);
});

test("property: any records, any chunking, round-trip exactly", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }), {
        minLength: 0,
        maxLength: 20,
      }),
      fc.array(fc.nat({ max: 64 }), { maxLength: 50 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((p) => encodeRecord(p)));
        const d = new RecordIODecoder();
        const out: string[] = [];
        let pos = 0;
        for (const c of cuts) {
          out.push(...d.push(stream.subarray(pos, pos + c)).map(text));
          pos = Math.min(stream.length, pos + c);
        }
        out.push(...d.push(stream.subarray(pos)).map(text));
        d.end();
        assert.deepEqual(out, payloads);
      },
    ),
    { numRuns: 300 },
  );
});

test("property: arbitrary binary payloads round-trip", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 10 }),
      (bufs) => {
        const d = new RecordIODecoder();
        const out = d.push(Buffer.concat(bufs.map((b) => encodeRecord(b))));
        assert.deepEqual(
          out.map((b) => Buffer.from(b)),
          bufs.map((b) => Buffer.from(b)),
        );
      },
    ),
  );
});

function expectCode(fn: () => unknown, code: string) {
  assert.throws(fn, (err: unknown) => err instanceof RecordIOError && err.code === code);
}

test("garbage header is a typed error, and the decoder stays failed", () => {
  const d = new RecordIODecoder();
  expectCode(() => d.push(Buffer.from("12a\n{}")), "RECORDIO_BAD_HEADER");
  expectCode(() => d.push(Buffer.from("2\n{}")), "RECORDIO_BAD_HEADER");
});

test("JSON without framing (what the predecessor assumed) is rejected at once", () => {
  expectCode(
    () => new RecordIODecoder().push(Buffer.from('{"type":"HEARTBEAT"}')),
    "RECORDIO_BAD_HEADER",
  );
});

test("empty and zero lengths are rejected", () => {
  expectCode(() => new RecordIODecoder().push(Buffer.from("\n")), "RECORDIO_EMPTY_HEADER");
  expectCode(() => new RecordIODecoder().push(Buffer.from("0\n")), "RECORDIO_ZERO_LENGTH");
});

test("a 10 GB length header fails before any body is buffered", () => {
  const d = new RecordIODecoder();
  // The digits alone trip the cap; no newline and no payload are needed.
  expectCode(() => d.push(Buffer.from("10737418240")), "RECORDIO_TOO_LARGE");
  assert.equal(d.bufferedBytes, 0);
});

test("the size cap is configurable and exact", () => {
  const d = new RecordIODecoder({ maxRecordBytes: 20 });
  assert.deepEqual(d.push(Buffer.from(`20\n${HEARTBEAT}`)).map(text), [HEARTBEAT]);
  expectCode(() => d.push(Buffer.from("21\n")), "RECORDIO_TOO_LARGE");
});

test("truncated record and truncated header are reported at end of stream", () => {
  const d1 = new RecordIODecoder();
  d1.push(Buffer.from('20\n{"type":"HEA'));
  expectCode(() => d1.end(), "RECORDIO_TRUNCATED");
  const d2 = new RecordIODecoder();
  d2.push(Buffer.from("2"));
  expectCode(() => d2.end(), "RECORDIO_TRUNCATED");
});

test("readRecords over an async byte stream", async () => {
  async function* chunks() {
    yield EXAMPLE.subarray(0, 2);
    yield EXAMPLE.subarray(2, 150);
    yield EXAMPLE.subarray(150);
  }
  const out: string[] = [];
  for await (const r of readRecords(chunks())) out.push(text(r));
  assert.deepEqual(out, [SUBSCRIBED, HEARTBEAT, ERROR]);
});

test("readRecords throws on a truncated stream", async () => {
  async function* chunks() {
    yield Buffer.from("52\n{");
  }
  await assert.rejects(
    async () => {
      for await (const _ of readRecords(chunks())) void _;
    },
    (err: unknown) => err instanceof RecordIOError && err.code === "RECORDIO_TRUNCATED",
  );
});
