// Small node:http helpers shared by the master and the agent.
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseMesosJson, stringifyMesosJson } from "../../../src/mesos/json.js";
import { SchemaError, toMessage, type Fields } from "./schema.js";

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class BodyTooLarge extends Error {}

// Events rather than `for await`: the async iterator costs more than the rest of reading a
// small body, and every message between master, agents and executors is one.
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new BodyTooLarge(`request body exceeds ${limit} bytes`));
        return;
      }
      parts.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

export function sendText(
  res: ServerResponse,
  status: number,
  text = "",
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, {
    ...(body.length > 0 ? { "Content-Type": "text/plain; charset=utf-8" } : {}),
    "Content-Length": String(body.length),
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(stringifyMesosJson(value), "utf8");
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(body.length),
  });
  res.end(body);
}

/** Mesos' media-type checks (reference 1.1); returns an error response or undefined. */
export function checkContentType(req: IncomingMessage): [number, string] | undefined {
  const ct = req.headers["content-type"];
  if (ct === undefined) return [400, "Expecting 'Content-Type' to be present"];
  const type = ct.split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && type !== "application/x-protobuf") {
    return [415, "Expecting 'Content-Type' of application/json or application/x-protobuf"];
  }
  if (type === "application/x-protobuf") {
    // The simulator speaks JSON only; say so rather than misparse.
    return [415, "This test master only supports 'Content-Type: application/json'"];
  }
  return undefined;
}

/** True when the Accept header admits application/json (absent = anything). */
export function acceptsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((part) => {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q && Number(q.slice(2)) === 0) return false;
    return type === "application/json" || type === "application/*" || type === "*/*";
  });
}

/** Decodes `Authorization: Basic ...` into [principal, secret]. */
export function basicAuth(req: IncomingMessage): [string, string] | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return [decoded.slice(0, i), decoded.slice(i + 1)];
}

export function methodNotAllowed(res: ServerResponse, method: string, allow = "POST"): void {
  sendText(res, 405, `Expecting a '${allow}' request, received '${method}'`, { Allow: allow });
}

/**
 * The shared front of the v1 call endpoints (scheduler and executor): POST only, a JSON
 * content type, a body that parses and converts to a Call, each refused with Mesos' status
 * and text. Resolves undefined when the answer has already been sent.
 */
export async function readCall<T>(
  req: IncomingMessage,
  res: ServerResponse,
  fields: Fields,
): Promise<T | undefined> {
  if (req.method !== "POST") {
    req.resume();
    methodNotAllowed(res, req.method ?? "");
    return undefined;
  }
  const ctErr = checkContentType(req);
  if (ctErr) {
    req.resume();
    sendText(res, ctErr[0], ctErr[1]);
    return undefined;
  }
  const body = await readBody(req);
  let json: unknown;
  try {
    json = parseMesosJson(body.toString("utf8"));
  } catch (err) {
    sendText(res, 400, `Failed to parse body into JSON: ${(err as Error).message}`);
    return undefined;
  }
  try {
    return toMessage<T>(json, fields);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    sendText(res, 400, `Failed to convert JSON into Call protobuf: ${err.message}`);
    return undefined;
  }
}
