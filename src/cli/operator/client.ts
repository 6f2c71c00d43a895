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

  constructor(o: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
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
    if (res.ok) return res;
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (body.error) message = `${res.status}: ${body.error}`;
    } catch {
      // not JSON: the status says enough
    }
    throw new CliError(
      res.status === 401 || res.status === 403 ? EXIT.authRefused : EXIT.apiError,
      message,
    );
  }

  async get<T>(path: string): Promise<T> {
    return (await (await this.raw(path)).json()) as T;
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
