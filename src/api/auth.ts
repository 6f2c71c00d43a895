// Bearer-token checks for the operator API. Tokens are compared in constant time (hashes of
// equal length), and a missing token configuration refuses mutations rather than allow them.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Secret } from "../common/secret.js";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export function tokenMatches(header: string | undefined, token: Secret | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!), digest(token.reveal()));
}

export const REALM = 'Bearer realm="scaleio-framework"';

/** A route guard: an onRequest hook, so it runs before any of the body is read. */
export type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * An onRequest hook that answers 401 unless the request carries the token. It runs before
 * the body is read or parsed, so a huge or slow body without the token costs nothing; the
 * connection is then closed rather than kept to drain that body.
 */
export function requireToken(token: Secret | undefined): Guard {
  return async (req, reply) => {
    if (tokenMatches(req.headers.authorization, token)) return;
    const error = !token
      ? "no API token is configured on the scheduler (SCALEIO_FRAMEWORK_API_TOKEN or --api-token-file)"
      : req.headers.authorization
        ? "wrong or malformed bearer token"
        : "missing bearer token (Authorization: Bearer <token>)";
    if (hasBody(req)) void reply.header("connection", "close");
    await reply.code(401).header("www-authenticate", REALM).send({ error });
  };
}

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}
