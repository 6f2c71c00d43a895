// `zk://[user:password@]host:port[,host:port...]/path`, the form Mesos masters, agents and
// frameworks all accept (reference 2.1). Credentials are kept but never rendered.
import { MesosConfigError } from "../errors.js";

export interface ZkServer {
  host: string;
  port: number;
}

export interface ZkCredentials {
  username: string;
  password: string;
}

const DEFAULT_ZK_PORT = 2181;
const SECRET = Symbol("credentials");

export class ZkUrl {
  readonly servers: readonly ZkServer[];
  /** The znode under which masters register; `/` when the URL has no path. */
  readonly path: string;
  // A symbol-keyed field stays out of JSON.stringify, util.inspect's default view of
  // public keys and accidental spreads into log objects.
  private readonly [SECRET]: ZkCredentials | undefined;

  constructor(servers: readonly ZkServer[], path: string, credentials?: ZkCredentials) {
    this.servers = servers;
    this.path = path;
    this[SECRET] = credentials;
  }

  /** Digest credentials, if the URL carried any. Handle with care: never log them. */
  get credentials(): ZkCredentials | undefined {
    return this[SECRET];
  }

  /** `host:port,host:port` for a ZooKeeper client (no chroot: the path is used in full). */
  get connectionString(): string {
    return this.servers.map((s) => `${formatHost(s.host)}:${s.port}`).join(",");
  }

  /** The URL with credentials redacted. */
  toString(): string {
    const auth = this[SECRET] ? "***:***@" : "";
    return `zk://${auth}${this.connectionString}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ZkUrl <${this.toString()}>`;
  }
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function bad(input: string, what: string): MesosConfigError {
  // The input may hold a password: name the problem, never echo the raw URL.
  return new MesosConfigError(`invalid ZooKeeper URL ${redactInput(input)}: ${what}`);
}

function redactInput(input: string): string {
  // Everything up to the last "@" may be credentials, even in a malformed URL.
  const at = input.lastIndexOf("@");
  if (at < 0) return JSON.stringify(input);
  const start = input.startsWith("zk://") ? "zk://".length : 0;
  return JSON.stringify(`${input.slice(0, start)}***@${input.slice(at + 1)}`);
}

const HOST_RE =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function parseServer(input: string, part: string, index: number): ZkServer {
  if (part === "") throw bad(input, `server ${index + 1} in the host list is empty`);
  let host: string;
  let portText: string | undefined;
  if (part.startsWith("[")) {
    const end = part.indexOf("]");
    if (end < 0) throw bad(input, `server "${part}" has an unclosed "[" (IPv6 literal)`);
    host = part.slice(1, end);
    const rest = part.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) {
      throw bad(input, `server "${part}" has junk after the IPv6 literal`);
    }
    portText = rest === "" ? undefined : rest.slice(1);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) {
      throw bad(input, `server "${part}" is not a valid IPv6 literal`);
    }
  } else {
    const colon = part.lastIndexOf(":");
    host = colon < 0 ? part : part.slice(0, colon);
    portText = colon < 0 ? undefined : part.slice(colon + 1);
    if (host === "") throw bad(input, `server "${part}" has no host name`);
    if (!HOST_RE.test(host)) throw bad(input, `server "${part}" has an invalid host name`);
  }
  let port = DEFAULT_ZK_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(input, `server "${part}" has a non-numeric port`);
    port = Number(portText);
    if (port < 1 || port > 65535) {
      throw bad(input, `server "${part}" has port ${port} outside 1-65535`);
    }
  }
  return { host, port };
}

function parsePath(input: string, raw: string): string {
  if (raw === "" || raw === "/") return "/";
  // A trailing slash is harmless and common in hand-written configuration.
  const path = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  for (const segment of path.slice(1).split("/")) {
    if (segment === "") throw bad(input, `path "${raw}" has an empty segment ("//")`);
    if (segment === "." || segment === "..") {
      throw bad(input, `path "${raw}" has a relative segment ("${segment}")`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) {
      throw bad(input, `path "${raw}" has a control character`);
    }
  }
  return path;
}

/** Parses a `zk://` URL; throws MesosConfigError naming what is wrong. */
export function parseZkUrl(input: string): ZkUrl {
  if (typeof input !== "string") throw new MesosConfigError("ZooKeeper URL must be a string");
  const text = input.trim();
  if (text.slice(0, 5).toLowerCase() !== "zk://") throw bad(text, 'it must start with "zk://"');
  const rest = text.slice("zk://".length);
  if (/[?#]/.test(rest)) throw bad(text, "query strings and fragments are not allowed");
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = parsePath(text, slash < 0 ? "" : rest.slice(slash));

  // Split at the last "@" so a password may contain "@".
  const at = authority.lastIndexOf("@");
  let credentials: ZkCredentials | undefined;
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    if (colon < 0) throw bad(text, 'credentials must be "user:password"');
    const username = userinfo.slice(0, colon);
    const password = userinfo.slice(colon + 1);
    if (username === "") throw bad(text, "credentials have an empty user name");
    if (password === "") throw bad(text, "credentials have an empty password");
    credentials = { username, password };
  }
  if (hostList === "") throw bad(text, "no ZooKeeper server given");
  const servers = hostList.split(",").map((p, i) => parseServer(text, p.trim(), i));
  return new ZkUrl(servers, path, credentials);
}
