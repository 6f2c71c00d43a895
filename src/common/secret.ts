// A secret value (password, token) that cannot leak through logging, JSON, string
// conversion or util.inspect: only `reveal()` gives the value, at the point of use.
const VALUE = Symbol("secret");

export class Secret {
  private readonly [VALUE]: string;
  /** Where it came from (a file path or an environment variable name), safe to show. */
  readonly source: string;

  constructor(value: string, source: string) {
    this[VALUE] = value;
    this.source = source;
  }

  reveal(): string {
    return this[VALUE];
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${this.source})`;
  }
}

/** Replaces every occurrence of the given secrets in a text (for error messages from outside). */
export function redactSecrets(text: string, secrets: (Secret | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    const v = s?.reveal();
    // includes() first: texts almost never hold a secret, and split/join copies them.
    if (v && v.length >= 3 && out.includes(v)) out = out.split(v).join("[redacted]");
  }
  return out;
}
