// Hands secrets to executors without putting them in Mesos: a node step that needs the
// admin password gets a random single-use token in its task data; the executor trades it
// once, within a short time, for the secrets at the scheduler's secrets endpoint. Tokens are
// kept only in memory and only as hashes, so neither Mesos' state nor ours holds a secret.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Secret } from "../../common/secret.js";

export interface VaultOptions {
  /** Secrets an executor may receive, by name (e.g. adminPassword). */
  secrets: Record<string, Secret | undefined>;
  /** How long a token stays valid (default 10 minutes). */
  ttlMs?: number;
  now?: () => number;
}

interface Grant {
  hash: Buffer;
  names: string[];
  expiresAt: number;
  purpose: string;
}

const hash = (token: string) => createHash("sha256").update(token, "utf8").digest();

export class SecretVault {
  private readonly opts: VaultOptions;
  private readonly grants = new Map<string, Grant>();

  constructor(opts: VaultOptions) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Issues a single-use token for the named secrets; `purpose` shows in audit logs. */
  issue(names: string[], purpose: string): string {
    for (const n of names) {
      if (!this.opts.secrets[n]) throw new Error(`secret '${n}' is not configured`);
    }
    this.prune();
    const token = randomBytes(24).toString("base64url");
    const h = hash(token);
    this.grants.set(h.toString("hex"), {
      hash: h,
      names,
      purpose,
      expiresAt: this.now() + (this.opts.ttlMs ?? 600_000),
    });
    return token;
  }

  /**
   * Trades a token for its secrets, once. Returns undefined for an unknown, used or expired
   * token (the caller answers 401 without saying which).
   */
  redeem(token: string): { values: Record<string, string>; purpose: string } | undefined {
    if (typeof token !== "string" || token.length < 16 || token.length > 200) return undefined;
    const h = hash(token);
    const key = h.toString("hex");
    const grant = this.grants.get(key);
    if (!grant || !timingSafeEqual(grant.hash, h)) return undefined;
    this.grants.delete(key);
    if (grant.expiresAt < this.now()) return undefined;
    const values: Record<string, string> = {};
    for (const n of grant.names) {
      const s = this.opts.secrets[n];
      if (s) values[n] = s.reveal();
    }
    return { values, purpose: grant.purpose };
  }

  /** Tokens not yet used or expired. */
  get outstanding(): number {
    this.prune();
    return this.grants.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, g] of this.grants) if (g.expiresAt < now) this.grants.delete(k);
  }
}
