// Serves the web UI (the static files in web/) at /ui/, and sends / there. Only regular files
// inside web/ with a known type are served; every answer carries a strict Content-Security-
// Policy (scripts and styles from this origin only, nothing inline, no framing).
import type { FastifyInstance, FastifyReply } from "fastify";
import { readFile, realpath, stat } from "node:fs/promises";
import { extname, join, sep } from "node:path";
import { packageRoot } from "../common/paths.js";

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

export interface UiOptions {
  /** The folder served; default: web/ in the installation root. */
  root?: string;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", UI_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY");
}

/**
 * The file a /ui/ path names, relative to the root, or undefined when the path is not one we
 * serve (traversal, hidden files, backslashes, NUL, bad escapes).
 */
export function uiRelativePath(urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.replace(/^\/ui\/?/, ""));
  } catch {
    return undefined;
  }
  if (rel === "") return "index.html";
  if (rel.includes("\0") || rel.includes("\\")) return undefined;
  const parts = rel.split("/");
  if (parts.some((p) => p === "" || p.startsWith("."))) return undefined;
  return parts.join("/");
}

export function registerUi(app: FastifyInstance, opts: UiOptions = {}): void {
  const root = opts.root ?? join(packageRoot(), "web");
  let realRoot: Promise<string> | undefined;

  const notFound = (reply: FastifyReply, path: string) =>
    securityHeaders(reply)
      .code(404)
      .send({ error: `no UI file ${path}` });

  // Only /, /ui and /ui/*: the OpenAPI test counts every other route as part of the API.
  app.get("/", async (_req, reply) => securityHeaders(reply).redirect("/ui/", 302));
  // `/ui` as typed, and the 2017 scheduler's status page, lead to the UI too.
  app.get("/ui", async (_req, reply) => securityHeaders(reply).redirect("/ui/", 301));
  app.get("/ui/state", async (_req, reply) => securityHeaders(reply).redirect("/ui/", 301));

  app.get("/ui/*", async (req, reply) => {
    const urlPath = req.url.split("?")[0]!;
    const rel = uiRelativePath(urlPath);
    const ext = rel ? extname(rel).toLowerCase() : "";
    // Own entries only: the extension comes from the request.
    const type = Object.hasOwn(CONTENT_TYPES, ext) ? CONTENT_TYPES[ext] : undefined;
    if (!rel || !type) return notFound(reply, urlPath);
    let file: string;
    let size: number;
    let mtime: number;
    try {
      realRoot ??= realpath(root);
      const base = await realRoot;
      // realpath: a symbolic link inside web/ must not lead outside it.
      file = await realpath(join(base, rel));
      if (!file.startsWith(base + sep)) return notFound(reply, urlPath);
      const st = await stat(file);
      if (!st.isFile()) return notFound(reply, urlPath);
      size = st.size;
      mtime = Math.floor(st.mtimeMs);
    } catch {
      return notFound(reply, urlPath);
    }
    const etag = `"${size.toString(16)}-${mtime.toString(16)}"`;
    securityHeaders(reply)
      .header("cache-control", "no-cache")
      .header("etag", etag)
      .header("content-type", type);
    if (req.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.send(await readFile(file));
  });
}
