// RecordIO framing (Mesos recordio.md): `<decimal byte length>\n<payload>` repeated, with
// no separator between records. Decoding works on raw bytes and is independent of how the
// transport chunks them: a chunk may end anywhere, even inside the length digits.
import { RecordIOError } from "./errors.js";

/** Default cap on one record: large enough for any Mesos event, small enough to bound memory. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

export interface RecordIODecoderOptions {
  maxRecordBytes?: number;
}

/**
 * Incremental decoder. Feed it chunks with `push`; it returns every record completed by
 * that chunk. After the first framing error it stays failed: the stream must be closed.
 */
export class RecordIODecoder {
  private readonly maxRecordBytes: number;
  private inHeader = true;
  private headerDigits = 0;
  private size = 0;
  private parts: Uint8Array[] = [];
  private filled = 0;
  private failure: RecordIOError | undefined;

  constructor(opts: RecordIODecoderOptions = {}) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(this.maxRecordBytes) || this.maxRecordBytes < 1) {
      throw new RangeError("maxRecordBytes must be a positive integer");
    }
  }

  /** Bytes held for an incomplete record (header digits are not counted). */
  get bufferedBytes(): number {
    return this.filled;
  }

  /** True when no partial record is pending. */
  get atBoundary(): boolean {
    return this.inHeader && this.headerDigits === 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure) throw this.failure;
    const records: Uint8Array[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.inHeader) {
        const b = chunk[i++]!;
        if (b === LF) {
          if (this.headerDigits === 0) this.fail("RECORDIO_EMPTY_HEADER", "empty record length");
          if (this.size === 0) this.fail("RECORDIO_ZERO_LENGTH", "record length 0");
          this.inHeader = false;
          continue;
        }
        if (b < ZERO || b > NINE) {
          this.fail(
            "RECORDIO_BAD_HEADER",
            `unexpected byte 0x${b.toString(16).padStart(2, "0")} in record length`,
          );
        }
        this.size = this.size * 10 + (b - ZERO);
        this.headerDigits += 1;
        // Refuse as soon as the digits exceed the cap: never wait for (or buffer) the body.
        if (this.size > this.maxRecordBytes) {
          this.fail(
            "RECORDIO_TOO_LARGE",
            `record length exceeds the ${this.maxRecordBytes}-byte limit`,
          );
        }
        continue;
      }
      const take = Math.min(this.size - this.filled, n - i);
      this.parts.push(chunk.slice(i, i + take));
      this.filled += take;
      i += take;
      if (this.filled === this.size) {
        records.push(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts));
        this.parts = [];
        this.filled = 0;
        this.size = 0;
        this.headerDigits = 0;
        this.inHeader = true;
      }
    }
    return records;
  }

  /** Call when the byte stream ends; throws if it ended inside a record. */
  end(): void {
    if (this.failure) throw this.failure;
    if (!this.atBoundary) {
      this.fail(
        "RECORDIO_TRUNCATED",
        this.inHeader
          ? "stream ended inside a record length"
          : `stream ended after ${this.filled} of ${this.size} record bytes`,
      );
    }
  }

  private fail(code: ConstructorParameters<typeof RecordIOError>[0], message: string): never {
    this.parts = [];
    this.filled = 0;
    this.failure = new RecordIOError(code, message);
    throw this.failure;
  }
}

const encoder = new TextEncoder();

/** Frames one payload (a string is encoded as UTF-8; the length counts bytes). */
export function encodeRecord(payload: string | Uint8Array): Buffer {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (body.length === 0) throw new RangeError("RecordIO records cannot be empty");
  return Buffer.concat([Buffer.from(`${body.length}\n`, "ascii"), body]);
}

/** Yields the records of a byte stream; a framing error or a truncated end throws. */
export async function* readRecords(
  source: AsyncIterable<Uint8Array>,
  opts: RecordIODecoderOptions = {},
): AsyncGenerator<Uint8Array> {
  const decoder = new RecordIODecoder(opts);
  for await (const chunk of source) {
    for (const record of decoder.push(chunk)) yield record;
  }
  decoder.end();
}
