// Downloads a package (or any artifact) into a cache folder: http(s) or file URLs, a size
// cap, a time limit, and an atomic rename so that a file in the cache is always complete.
// A file already in the cache is reused (package files carry their version in the name).
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";

export class DownloadError extends Error {
  /** True when retrying cannot help (bad URL, 404, too large). */
  readonly permanent: boolean;
  constructor(message: string, permanent = false) {
    super(message);
    this.name = "DownloadError";
    this.permanent = permanent;
  }
}

export interface DownloadOptions {
  cacheDir: string;
  /** Refuse anything larger (default 2 GiB). */
  maxBytes?: number;
  /** Whole-transfer time limit (default 10 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** PEM CA bundle to verify an https server with. */
  ca?: string;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,199}$/;

/** The file name a URL is cached under (its last path segment), validated. */
export function fileNameOf(url: URL): string {
  const name = decodeURIComponent(basename(url.pathname));
  if (!FILE_NAME.test(name)) {
    throw new DownloadError(`URL ${url.href} does not end in a plain file name`, true);
  }
  return name;
}

export function parseDownloadUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError(`'${raw}' is not a URL`, true);
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) {
    throw new DownloadError(`URL scheme '${url.protocol}' is not http, https or file`, true);
  }
  return url;
}

/** Downloads `raw` into the cache (once) and returns the local path. */
export async function download(raw: string, opts: DownloadOptions): Promise<string> {
  const url = parseDownloadUrl(raw);
  const name = fileNameOf(url);
  const maxBytes = opts.maxBytes ?? 2 * 1024 ** 3;
  await mkdir(opts.cacheDir, { recursive: true });
  const target = join(opts.cacheDir, name);
  try {
    if ((await stat(target)).isFile()) return target;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const tmp = `${target}.part-${randomBytes(6).toString("hex")}`;
  try {
    if (url.protocol === "file:") {
      const src = fileURLToPath(url);
      const st = await stat(src).catch(() => {
        throw new DownloadError(`${url.href}: no such file`, true);
      });
      if (st.size > maxBytes) {
        throw new DownloadError(
          `${url.href} is ${st.size} bytes, above the ${maxBytes} limit`,
          true,
        );
      }
      await copyFile(src, tmp);
    } else {
      await fetchTo(url, tmp, maxBytes, opts);
    }
    await rename(tmp, target);
    return target;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function fetchTo(url: URL, tmp: string, maxBytes: number, opts: DownloadOptions) {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const signal = AbortSignal.any(signals);
  const dispatcher = opts.ca ? new Agent({ connect: { ca: opts.ca } }) : undefined;
  try {
    let res;
    try {
      res = await fetch(url, { signal, ...(dispatcher ? { dispatcher } : {}) });
    } catch (err) {
      throw new DownloadError(`${url.href}: ${describe(err, signal, timeoutMs)}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 429;
      throw new DownloadError(`${url.href}: HTTP ${res.status}`, permanent);
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) {
      await res.body.cancel().catch(() => {});
      throw new DownloadError(
        `${url.href} is ${declared} bytes, above the ${maxBytes} limit`,
        true,
      );
    }
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > maxBytes)
          done(new DownloadError(`${url.href} exceeds the ${maxBytes}-byte limit`, true));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
        cap,
        createWriteStream(tmp, { mode: 0o644 }),
        { signal },
      );
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      throw new DownloadError(`${url.href}: ${describe(err, signal, timeoutMs)}`);
    }
  } finally {
    await dispatcher?.close();
  }
}

function describe(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    return reason?.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : "aborted";
  }
  const e = err as Error & { cause?: Error };
  return e.cause?.message ?? e.message;
}
