// The web UI's static serving: the right types, a strict CSP, nothing outside web/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { registerUi, uiRelativePath, UI_CSP } from "../../../src/api/ui-routes.js";

function app(root?: string) {
  const a = Fastify({ logger: false });
  a.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url}` });
  });
  registerUi(a, root ? { root } : {});
  return a;
}

test("the real web/ folder is served with the right content types and the CSP", async () => {
  const a = app();
  const cases: [string, RegExp][] = [
    ["/ui/", /^text\/html; charset=utf-8$/],
    ["/ui/index.html", /^text\/html/],
    ["/ui/app.js", /^text\/javascript/],
    ["/ui/style.css", /^text\/css/],
    ["/ui/favicon.svg", /^image\/svg\+xml$/],
  ];
  for (const [url, type] of cases) {
    const r = await a.inject({ url });
    assert.equal(r.statusCode, 200, url);
    assert.match(String(r.headers["content-type"]), type, url);
    assert.equal(r.headers["content-security-policy"], UI_CSP, url);
    assert.equal(r.headers["x-content-type-options"], "nosniff", url);
  }
  assert.match(UI_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(UI_CSP, /unsafe-inline|unsafe-eval|\*/);
  const html = (await a.inject({ url: "/ui/" })).body;
  // No inline script or style: everything comes from files the CSP allows.
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /\sstyle=|<style/);
  assert.doesNotMatch(html, /https?:\/\//);
});

test("/, /ui and the 2017 scheduler's /ui/state lead to /ui/", async () => {
  const root = await app().inject({ url: "/" });
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, "/ui/");
  for (const url of ["/ui", "/ui/state", "/ui?x=1"]) {
    const r = await app().inject({ url });
    assert.equal(r.statusCode, 301, url);
    assert.equal(r.headers.location, "/ui/", url);
  }
});

test("an unchanged file answers 304 to its ETag", async () => {
  const a = app();
  const first = await a.inject({ url: "/ui/app.js" });
  const etag = String(first.headers.etag);
  const again = await a.inject({ url: "/ui/app.js", headers: { "if-none-match": etag } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, "");
});

test("unknown files, folders, hidden files and unknown types get a 404 in JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ui-routes-"));
  try {
    const web = join(dir, "web");
    mkdirSync(join(web, "sub"), { recursive: true });
    writeFileSync(join(web, "index.html"), "<p>hi</p>");
    writeFileSync(join(web, ".secret.js"), "hidden");
    writeFileSync(join(web, "notes.md"), "# md");
    const a = app(web);
    for (const url of ["/ui/missing.js", "/ui/sub", "/ui/sub/", "/ui/.secret.js", "/ui/notes.md"]) {
      const r = await a.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.match(String(r.headers["content-type"]), /^application\/json/, url);
      assert.match(r.json().error, /no UI file/, url);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("directory traversal is refused, however it is spelled", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ui-routes-"));
  try {
    const web = join(dir, "web");
    mkdirSync(web);
    writeFileSync(join(web, "index.html"), "<p>hi</p>");
    writeFileSync(join(dir, "outside.txt"), "TOP-SECRET");
    symlinkSync(join(dir, "outside.txt"), join(web, "link.txt"));
    const a = app(web);
    for (const url of [
      "/ui/../outside.txt",
      "/ui/%2e%2e/outside.txt",
      "/ui/%2E%2E%2Foutside.txt",
      "/ui/..%5coutside.txt",
      "/ui/%252e%252e/outside.txt",
      "/ui//etc/passwd",
      "/ui/%2fetc%2fpasswd",
      "/ui/index.html%00.txt",
      "/ui/%E0%A4%A",
      "/ui/link.txt",
    ]) {
      const r = await a.inject({ url });
      assert.ok(r.statusCode === 404 || r.statusCode === 400, `${url}: ${r.statusCode}`);
      assert.doesNotMatch(r.body, /TOP-SECRET|root:/, url);
    }
    assert.equal(uiRelativePath("/ui/a/../b.js"), undefined);
    assert.equal(uiRelativePath("/ui/"), "index.html");
    assert.equal(uiRelativePath("/ui/a/b.js"), "a/b.js");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
