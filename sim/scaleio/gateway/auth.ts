// Gateway tokens: issued by GET /api/login, presented as the Basic-auth password with any
// user name. Lifetime: 8 h absolute and 10 min idle (reference 4.1; both configurable).
import { randomBytes } from "node:crypto";
import type { Clock } from "../model/clock.js";

export interface TokenPolicy {
  absoluteMs: number;
  idleMs: number;
}

export const DEFAULT_TOKEN_POLICY: TokenPolicy = { absoluteMs: 8 * 3600_000, idleMs: 10 * 60_000 };

interface Session {
  user: string;
  created: number;
  lastUsed: number;
}

export class TokenStore {
  private sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: TokenPolicy = DEFAULT_TOKEN_POLICY,
  ) {}

  issue(user: string): string {
    const now = this.clock.now();
    // Forget expired sessions so repeated logins do not accumulate.
    for (const [t, x] of this.sessions) {
      if (now - x.created > this.policy.absoluteMs || now - x.lastUsed > this.policy.idleMs)
        this.sessions.delete(t);
    }
    // Shaped like the real tokens: base64 text.
    const token = randomBytes(24).toString("base64");
    this.sessions.set(token, { user, created: now, lastUsed: now });
    return token;
  }

  /** Returns the user name if the token is valid (and refreshes its idle timer). */
  check(token: string): string | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    const now = this.clock.now();
    if (now - s.created > this.policy.absoluteMs || now - s.lastUsed > this.policy.idleMs) {
      this.sessions.delete(token);
      return undefined;
    }
    s.lastUsed = now;
    return s.user;
  }

  revoke(token: string): void {
    this.sessions.delete(token);
  }

  /** After a password change every token of that user stops working. */
  revokeUser(user: string): void {
    for (const [t, s] of this.sessions) if (s.user === user) this.sessions.delete(t);
  }
}

export function parseBasic(
  header: string | undefined,
): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header.trim());
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = text.indexOf(":");
  if (i < 0) return undefined;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}
