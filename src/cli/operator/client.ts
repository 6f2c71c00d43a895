// The CLI's client of the operator API: the URL from --api or SCALEIO_FRAMEWORK_API, the
// token from --token-file or SCALEIO_FRAMEWORK_API_TOKEN, and errors mapped to exit codes.
import { readFileSync } from "node:fs";

export const EXIT = {
  ok: 0,
  /** The API answered with an error, or could not be reached. */
  apiError: 1,
  usage: 2,
  /** `status`: the cluster is not healthy. */
  notHealthy: 3,
  /** The API refused the token (401/403). */
  authRefused: 4,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface ConnectionOptions {
  api?: string;
  tokenFile?: string;
}

export const DEFAULT_API = "http://127.0.0.1:35000";

export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;
  /** Where the token came from, for the message when it is refused. */
  private readonly tokenSource: string;

  /** Whether the note about a standby's copy was given (once per command). */
  private notedStandby = false;

  constructor(
    o: ConnectionOptions,
    env: NodeJS.ProcessEnv = process.env,
    /** Where notes for the operator go (stderr): they never mix with the answer on stdout. */
    private readonly note: (text: string) => void = (t) => process.stderr.write(t),
  ) {
    const raw = o.api ?? env.SCALEIO_FRAMEWORK_API ?? DEFAULT_API;
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    } catch {
      throw new CliError(EXIT.usage, `--api: '${raw}' is not an http(s) URL`);
    }
    this.base = url.toString().replace(/\/$/, "");
    if (o.tokenFile) {
      try {
        this.token = readFileSync(o.tokenFile, "utf8").trim();
      } catch (err) {
        throw new CliError(
          EXIT.usage,
          `--token-file: cannot read ${o.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
        );
      }
    } else this.token = env.SCALEIO_FRAMEWORK_API_TOKEN || undefined;
    this.tokenSource = o.tokenFile ? `--token-file ${o.tokenFile}` : "SCALEIO_FRAMEWORK_API_TOKEN";
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
  }

  /** Fetches a path; any failure becomes a CliError with the right exit code. */
  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        ...init,
        headers: this.headers((init.headers as Record<string, string>) ?? {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        EXIT.apiError,
        `cannot reach the scheduler at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
    if (res.ok) {
      this.noteStandbyCopy(res.headers);
      return res;
    }
    let error: string | undefined;
    try {
      error = ((await res.json()) as { error?: unknown }).error as string | undefined;
    } catch {
      // not JSON: said below
    }
    // Every answer of the scheduler's API, errors too, is JSON with an `error` string.
    if (typeof error !== "string") throw this.notTheScheduler(`${res.status} ${res.statusText}`);
    if (res.status === 401 || res.status === 403)
      throw new CliError(
        EXIT.authRefused,
        `${res.status}: ${error}: ${
          this.token === undefined
            ? "no API token was given"
            : `the token from ${this.tokenSource} was refused`
        }; give the scheduler's API token with --token-file FILE or SCALEIO_FRAMEWORK_API_TOKEN`,
      );
    throw new CliError(EXIT.apiError, `${res.status}: ${error}`);
  }

  /** An answer from a standby's copy of the leader's views: how old, and where the leader is. */
  private noteStandbyCopy(headers: Headers): void {
    if (this.notedStandby || headers.get("x-served-by") !== "standby") return;
    this.notedStandby = true;
    const ageMs = Number(headers.get("x-view-age-ms"));
    const age = Number.isFinite(ageMs) ? `, ${(ageMs / 1000).toFixed(1)} s old` : "";
    const leader = headers.get("x-leader");
    this.note(
      `note: answered by a standby scheduler from the leader's published views${age}` +
        `${leader ? `; the leader is at ${leader} (changes go there: --api ${leader})` : ""}\n`,
    );
  }

  /** Something answers at --api, but not as the scheduler's API does. */
  private notTheScheduler(what: string): CliError {
    return new CliError(
      EXIT.apiError,
      `${this.base} answers ${what}, not as the scaleio-framework scheduler's API does: is --api the URL the scheduler prints (api: ...)?`,
    );
  }

  async get<T>(path: string): Promise<T> {
    const res = await this.raw(path);
    if (!/\bjson\b/i.test(res.headers.get("content-type") ?? ""))
      throw this.notTheScheduler(
        `${res.status} with ${res.headers.get("content-type") ?? "no content type"}`,
      );
    try {
      return (await res.json()) as T;
    } catch {
      throw this.notTheScheduler(`${res.status} with a body that is not JSON`);
    }
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.raw(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await res.json()) as T;
  }
}
