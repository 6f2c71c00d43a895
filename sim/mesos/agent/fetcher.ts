// The Mesos fetcher: CommandInfo.URIs into the sandbox. http(s) and file URLs (or
// absolute paths); `executable` sets mode 755, `extract` unpacks archives with the system
// tar/unzip (argument arrays, never a shell), `cache` keeps a copy in the per-host cache.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CommandURI } from "../../../src/mesos/types/index.js";

const run = promisify(execFile);

const TAR = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$/i;
const ZIP = /\.zip$/i;

export class FetchError extends Error {}

function nameOf(uri: CommandURI): string {
  if (uri.output_file) {
    if (uri.output_file.includes("/") || uri.output_file.startsWith(".")) {
      throw new FetchError(`invalid output_file '${uri.output_file}'`);
    }
    return uri.output_file;
  }
  const path = /^[a-z]+:\/\//i.test(uri.value) ? new URL(uri.value).pathname : uri.value;
  const name = basename(path);
  if (!name || name === "." || name === "..") throw new FetchError(`cannot name '${uri.value}'`);
  return name;
}

async function download(value: string, dest: string): Promise<void> {
  if (/^https?:\/\//i.test(value)) {
    const res = await fetch(value);
    if (!res.ok) throw new FetchError(`GET ${value}: HTTP ${res.status}`);
    await writeFile(dest, Buffer.from(await res.arrayBuffer()));
    return;
  }
  const path = value.startsWith("file://") ? fileURLToPath(value) : value;
  if (!path.startsWith("/")) throw new FetchError(`unsupported URI '${value}'`);
  try {
    await stat(path);
  } catch {
    throw new FetchError(`file '${path}' does not exist`);
  }
  await copyFile(path, dest);
}

export async function fetchUris(
  uris: CommandURI[],
  sandbox: string,
  cacheDir: string,
): Promise<void> {
  for (const uri of uris) {
    const name = nameOf(uri);
    const dest = join(sandbox, name);
    if (uri.cache) {
      await mkdir(cacheDir, { recursive: true });
      const cached = join(cacheDir, createHash("sha256").update(uri.value).digest("hex"));
      try {
        await stat(cached);
      } catch {
        const tmp = `${cached}.${process.pid}.${Date.now()}.tmp`;
        await download(uri.value, tmp);
        await rename(tmp, cached);
      }
      await copyFile(cached, dest);
    } else {
      await download(uri.value, dest);
    }
    if (uri.executable) {
      await chmod(dest, 0o755);
      continue;
    }
    if (uri.extract ?? true) {
      if (TAR.test(name)) await run("tar", ["-C", sandbox, "-xf", dest]);
      else if (ZIP.test(name)) await run("unzip", ["-o", "-q", "-d", sandbox, dest]);
    }
  }
}
