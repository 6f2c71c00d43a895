// Credentials for HTTP Basic authentication against the master. The secret is read from a
// file or an environment variable and is kept out of every string form of this object, so
// logging it (or a config that holds it) never prints the secret.
import { readFileSync } from "node:fs";
import { MesosConfigError } from "./errors.js";

const SECRET = Symbol("secret");

export class Credential {
  readonly principal: string;
  private readonly [SECRET]: string;

  constructor(principal: string, secret: string) {
    if (!principal) throw new MesosConfigError("credential principal must not be empty");
    if (principal.includes(":")) {
      throw new MesosConfigError("credential principal must not contain ':' (HTTP Basic)");
    }
    if (!secret) throw new MesosConfigError(`credential secret for '${principal}' is empty`);
    this.principal = principal;
    this[SECRET] = secret;
  }

  /** The value of the Authorization header. */
  authorizationHeader(): string {
    return `Basic ${Buffer.from(`${this.principal}:${this[SECRET]}`, "utf8").toString("base64")}`;
  }

  toJSON(): { principal: string; secret: string } {
    return { principal: this.principal, secret: "[redacted]" };
  }

  toString(): string {
    return `Credential(${this.principal})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

export interface CredentialSource {
  principal: string;
  /** Path of a file holding the secret (surrounding whitespace trimmed). */
  secretFile?: string;
  /** Name of an environment variable holding the secret. */
  secretEnv?: string;
  env?: NodeJS.ProcessEnv;
}

/** Loads a credential; exactly one of secretFile or secretEnv must be given. */
export function loadCredential(src: CredentialSource): Credential {
  const env = src.env ?? process.env;
  if (src.secretFile && src.secretEnv) {
    throw new MesosConfigError(
      "give the Mesos secret either as a file or as an environment variable, not both",
    );
  }
  if (src.secretFile) {
    let text: string;
    try {
      text = readFileSync(src.secretFile, "utf8");
    } catch (err) {
      throw new MesosConfigError(
        `cannot read the Mesos secret file ${src.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return new Credential(src.principal, text.trim());
  }
  if (src.secretEnv) {
    const value = env[src.secretEnv];
    if (!value)
      throw new MesosConfigError(`environment variable ${src.secretEnv} (Mesos secret) is not set`);
    return new Credential(src.principal, value);
  }
  throw new MesosConfigError("a Mesos principal was given without a secret file or variable");
}
