// scli-style arguments: `--flag value` or a bare `--flag`. A flag takes the next token as its
// value unless that token is another flag.
export class Args {
  readonly flags = new Map<string, string | true>();
  readonly order: string[] = [];

  constructor(argv: string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith("--")) continue;
      const eq = a.indexOf("=");
      const name = (eq > 0 ? a.slice(2, eq) : a.slice(2)).toLowerCase();
      this.order.push(name);
      if (eq > 0) {
        this.flags.set(name, a.slice(eq + 1));
        continue;
      }
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        this.flags.set(name, next);
        i++;
      } else this.flags.set(name, true);
    }
  }

  has(name: string): boolean {
    return this.flags.has(name);
  }

  get(name: string): string | undefined {
    const v = this.flags.get(name);
    return typeof v === "string" ? v : undefined;
  }

  list(name: string): string[] {
    const v = this.get(name);
    return v
      ? v
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean)
      : [];
  }
}

export class UsageError extends Error {}

export function need(a: Args, name: string): string {
  const v = a.get(name);
  if (!v) throw new UsageError(`Error: Missing required parameter --${name}`);
  return v;
}
