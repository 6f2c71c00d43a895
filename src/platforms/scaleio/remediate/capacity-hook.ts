// The operator's capacity hook: when a pool runs almost full and no unused device is left
// to add, the framework asks someone who can attach storage (a cloud API, a SAN, a person's
// pager) to do it — a command given JSON on its standard input, or a URL given the same JSON
// in a POST. Any provider works; the predecessor could only grow AWS volumes. Calls for one
// pool back off (with jitter) until the pool is no longer almost full; each call and its
// answer are recorded for the event log.
import { request } from "undici";
import { Backoff } from "../../../mesos/backoff.js";
import { run } from "../../../host/process.js";

export interface CapacityRequest {
  pool: string;
  /** The pool's id (unique in the system; calls back off per id when given, else per name). */
  poolId?: string;
  protectionDomain: string;
  usedPercent: number;
  /** Raw capacity that would bring the pool back under the target (GiB, at least 1). */
  suggestedGrowthGb: number;
  /** Agents that serve the pool's SDSs: where a new device would be added. */
  candidateAgents: { agentId: string; hostname: string; ip: string }[];
}

export interface HookCall {
  pool: string;
  at: number;
  ok: boolean;
  /** What the hook answered (exit code or HTTP status, and the first 2,000 characters). */
  answer: string;
  /** When the next call for this pool may be made. */
  nextAt: number;
}

export type HookTarget = { command: string } | { url: string };

export interface CapacityHookOptions {
  target: HookTarget;
  timeoutMs?: number;
  /** Between calls for the same pool while it stays almost full (default 5 min up to 1 h). */
  backoff?: { initialMs?: number; maxMs?: number; random?: () => number };
  now?: () => number;
  /** Extra environment for a command (added to the few harmless variables it gets). */
  env?: Record<string, string>;
}

/**
 * The only variables of our environment a command inherits: the scheduler's environment
 * holds secrets (the admin password, the API token) that a hook has no business seeing.
 */
const INHERITED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"];

function hookEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) out[k] = process.env[k];
  return out;
}

const cut = (s: string) => (s.length > 2000 ? `${s.slice(0, 2000)}…` : s);

export class CapacityHook {
  private readonly opts: CapacityHookOptions;
  private readonly perPool = new Map<string, { backoff: Backoff; nextAt: number }>();

  constructor(opts: CapacityHookOptions) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Whether a call for this pool (its id, or its name when requests carry no id) is due now. */
  due(pool: string): boolean {
    const s = this.perPool.get(pool);
    return !s || s.nextAt <= this.now();
  }

  /** The pool is no longer almost full: its next episode starts without waiting. */
  settled(pool: string): void {
    this.perPool.delete(pool);
  }

  /**
   * Calls the hook for a pool (when due); undefined when it is not due yet. Aborting the
   * signal stops a command or a request still running (the scheduler is stopping).
   */
  async call(req: CapacityRequest, signal?: AbortSignal): Promise<HookCall | undefined> {
    const key = req.poolId ?? req.pool;
    if (!this.due(key)) return undefined;
    let state = this.perPool.get(key);
    if (!state) {
      state = {
        backoff: new Backoff({
          initialMs: this.opts.backoff?.initialMs ?? 5 * 60_000,
          maxMs: this.opts.backoff?.maxMs ?? 60 * 60_000,
          ...(this.opts.backoff?.random ? { random: this.opts.backoff.random } : {}),
        }),
        nextAt: 0,
      };
      this.perPool.set(key, state);
    }
    const at = this.now();
    // Booked before the call: a slow hook is not called again for the same pool meanwhile.
    state.nextAt = at + state.backoff.next();
    const body = JSON.stringify(req);
    let ok = false;
    let answer: string;
    try {
      const r = await this.invoke(body, signal);
      ok = r.ok;
      answer = r.answer;
    } catch (err) {
      answer = `failed: ${(err as Error).message}`;
    }
    return { pool: req.pool, at, ok, answer: cut(answer), nextAt: state.nextAt };
  }

  private async invoke(
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: boolean; answer: string }> {
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const t = this.opts.target;
    if ("command" in t) {
      const r = await run(t.command, [], {
        input: body,
        timeoutMs,
        check: false,
        maxOutputBytes: 64 * 1024,
        baseEnv: hookEnv(),
        ...(signal ? { signal } : {}),
        ...(this.opts.env ? { env: this.opts.env } : {}),
      });
      const out = [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join("\n");
      const how = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
      return { ok: r.exitCode === 0, answer: `${how}${out ? `: ${out}` : ""}` };
    }
    const r = await request(t.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const text = await r.body.text();
    return {
      ok: r.statusCode >= 200 && r.statusCode < 300,
      answer: `HTTP ${r.statusCode}${text ? `: ${text}` : ""}`,
    };
  }
}

/**
 * Raw capacity (GiB) that brings a pool's use back to `targetPercent` of its non-spare
 * capacity, given its spare percentage; at least 1 GiB.
 */
export function suggestedGrowthGb(p: {
  inUseKb: number;
  limitKb: number;
  sparePercentage: number;
  targetPercent: number;
}): number {
  const keep = 1 - p.sparePercentage / 100;
  if (keep <= 0) return 1;
  const nonSpareNeeded = p.inUseKb / (p.targetPercent / 100);
  const rawNeeded = nonSpareNeeded / keep;
  return Math.max(1, Math.ceil((rawNeeded - p.limitKb) / 2 ** 20));
}
