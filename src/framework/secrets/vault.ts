// Hands secrets to executors without putting them in Mesos: a node step that needs the
// admin password gets a random single-use token in its task data; the executor trades it
// once, within a short time, for the secrets at the scheduler's secrets endpoint. Tokens are
// kept only in memory and only as hashes, so neither Mesos' state nor ours holds a secret.
//
// Whoever sees the task data (Mesos' state, a tap on the master-agent link) sees the token
// too, so a token is bound to its task and agent: the executor shows the task id it was
// launched with, and the caller must connect from the agent's address where we know it. A
// token shown with the wrong task or from the wrong address is spent (the step fails and
// runs again with a fresh one), and an address that keeps failing is refused for a while.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { Secret } from "../../common/secret.js";
import { FailureLimiter, type FailureLimiterOptions } from "./failure-limiter.js";

export interface VaultOptions {
  /** Secrets an executor may receive, by name (e.g. adminPassword). */
  secrets: Record<string, Secret | undefined>;
  /** How long a token stays valid (default 10 minutes). */
  ttlMs?: number;
  /** The address an agent's executors connect from (its IP), when known. */
  addressOf?: (agentId: string) => string | undefined;
  /** Failed redemptions allowed per caller address (default 5 a minute). */
  failures?: Omit<FailureLimiterOptions, "now">;
  now?: () => number;
}

/** The task and agent a token is issued for. */
export interface TokenBinding {
  taskId: string;
  agentId: string;
}

/** What the caller of the secrets endpoint shows besides the token. */
export interface Presented {
  /** The Mesos task id the executor was launched with. */
  taskId?: string | undefined;
  /** The caller's address as the connection shows it. */
  address?: string | undefined;
}

export type RefusalReason =
  "malformed" | "unknown-or-used" | "expired" | "wrong-task" | "wrong-address" | "rate-limited";

export type RedeemOutcome =
  | { ok: true; values: Record<string, string>; purpose: string }
  | {
      ok: false;
      reason: RefusalReason;
      /** The step the token was issued for, when the token was known. */
      purpose?: string;
      /** For rate-limited callers: when they may try again. */
      retryAfterMs?: number;
      /** False for the repeated refusals of a rate-limited address (log those only once). */
      worthLogging: boolean;
    };

interface Grant {
  hash: Buffer;
  names: string[];
  expiresAt: number;
  purpose: string;
  binding?: TokenBinding;
}

const hash = (token: string) => createHash("sha256").update(token, "utf8").digest();

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is 10.0.0.5. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  return a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

export class SecretVault {
  private readonly opts: VaultOptions;
  private readonly grants = new Map<string, Grant>();
  private readonly limiter: FailureLimiter;

  constructor(opts: VaultOptions) {
    this.opts = opts;
    this.limiter = new FailureLimiter({ ...opts.failures, now: () => this.now() });
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Issues a single-use token for the named secrets; `purpose` shows in audit logs. With a
   * binding, only the executor of that task on that agent can trade it.
   */
  issue(names: string[], purpose: string, binding?: TokenBinding): string {
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
      ...(binding ? { binding } : {}),
    });
    return token;
  }

  /**
   * Trades a token for its secrets, once. A refusal says why, for the log; the caller answers
   * without saying which (401, or 429 for a rate-limited address).
   */
  redeem(token: string, presented: Presented = {}): RedeemOutcome {
    const address = presented.address ? normalizeAddress(presented.address) : undefined;
    if (address) {
      const wait = this.limiter.blockedFor(address);
      if (wait > 0) {
        return {
          ok: false,
          reason: "rate-limited",
          retryAfterMs: wait,
          worthLogging: this.limiter.refusedWhileBlocked(address),
        };
      }
    }
    const refuse = (reason: RefusalReason, grant?: Grant): RedeemOutcome => {
      if (address) this.limiter.fail(address);
      return {
        ok: false,
        reason,
        ...(grant ? { purpose: grant.purpose } : {}),
        worthLogging: true,
      };
    };
    if (typeof token !== "string" || token.length < 16 || token.length > 200)
      return refuse("malformed");
    const h = hash(token);
    const key = h.toString("hex");
    const grant = this.grants.get(key);
    if (!grant || !timingSafeEqual(grant.hash, h)) return refuse("unknown-or-used");
    // Spent whatever happens next: a token shown by the wrong caller is as good as stolen.
    this.grants.delete(key);
    if (grant.expiresAt < this.now()) return refuse("expired", grant);
    if (grant.binding) {
      if (presented.taskId !== grant.binding.taskId) return refuse("wrong-task", grant);
      const agentAddress = this.opts.addressOf?.(grant.binding.agentId);
      // Only an IP can be compared with the connection's address; a host name is not checked.
      if (agentAddress && isIP(agentAddress) && address !== normalizeAddress(agentAddress))
        return refuse("wrong-address", grant);
    }
    const values: Record<string, string> = {};
    for (const n of grant.names) {
      const s = this.opts.secrets[n];
      if (s) values[n] = s.reveal();
    }
    return { ok: true, values, purpose: grant.purpose };
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
