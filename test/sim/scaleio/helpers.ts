// Shared test plumbing: an emulator on 127.0.0.1 with a manual clock, a small REST client,
// and in-process node tools (the bin/ forwarders are exercised in node-bin.test.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { ManualClock } from "../../../sim/scaleio/model/clock.js";
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from "../../../sim/scaleio/emulator.js";
import type { BootstrapOptions } from "../../../sim/scaleio/model/bootstrap.js";
import type { Tool } from "../../../sim/scaleio/node/exec.js";

export const PASSWORD = "S3cret-pw";

export interface TestEmu {
  emu: Emulator;
  clock: ManualClock;
  api: Api;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  body: unknown;
  text: string;
}

export class Api {
  token: string | undefined;
  constructor(
    readonly base: string,
    private readonly dispatcher?: Agent,
  ) {}

  async raw(
    method: string,
    path: string,
    o: { body?: unknown; rawBody?: string; auth?: string | null } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept: "application/json;version=2.0" };
    const auth =
      o.auth === undefined ? (this.token !== undefined ? `:${this.token}` : undefined) : o.auth;
    if (auth !== null && auth !== undefined)
      headers.authorization = `Basic ${Buffer.from(auth).toString("base64")}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers["content-type"] = "application/json;version=2.0";
    const res = await request(this.base + path, {
      method: method as "GET",
      headers,
      body,
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body: parsed, text };
  }

  async login(user = "admin", password = PASSWORD): Promise<string> {
    const r = await this.raw("GET", "/api/login", { auth: `${user}:${password}` });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
    this.token = r.body as string;
    return this.token;
  }

  async get<T = unknown>(path: string): Promise<T> {
    const r = await this.raw("GET", path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
    return r.body as T;
  }

  async post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    const r = await this.raw("POST", path, { body });
    if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
    return r.body as T;
  }
}

export async function startTestEmu(
  o: { bootstrap?: BootstrapOptions | false; https?: boolean } & Omit<
    EmulatorOptions,
    "bootstrap"
  > = {},
): Promise<TestEmu> {
  const clock = new ManualClock();
  const stateDir = mkdtempSync(join(tmpdir(), "scaleio-sim-test-"));
  const boot = o.bootstrap === undefined ? { password: PASSWORD, sdcCount: 1 } : o.bootstrap;
  const emu = await startEmulator({
    ...o,
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    http: !o.https,
    clock,
    stateDir,
    bootstrap: boot,
  });
  const dispatcher = emu.caFile
    ? new Agent({ connect: { ca: readFileSync(emu.caFile, "utf8") } })
    : undefined;
  const api = new Api(emu.gatewayUrl, dispatcher);
  return {
    emu,
    clock,
    api,
    async close() {
      await emu.close();
      await dispatcher?.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Runs a node-side tool in-process, as the bin/ forwarder would. */
export function onNode(
  emu: Emulator,
  ip: string,
  tool: Tool,
  argv: string[],
  env: Record<string, string> = {},
  root?: string,
) {
  return emu.tools.run(
    tool,
    { ip, root, env: { SCALEIO_SIM_NODE_IP: ip, ...env } },
    argv,
    emu.repoDir,
  );
}
