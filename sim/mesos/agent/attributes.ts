// Agent attributes from the `--attributes` flag syntax (`rack:r1;nvme:4`) and from a
// directory holding one file per attribute (file name = name, content = value), the layout
// of `/etc/mesos-slave/attributes/`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Attribute } from "../../../src/mesos/types/index.js";

export function parseAttribute(name: string, value: string): Attribute {
  const v = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return { name, type: "SCALAR", scalar: { value: Number(v) } };
  if (/^\[.*\]$/.test(v)) {
    const range = v
      .slice(1, -1)
      .split(",")
      .map((s) => s.trim().split("-").map(Number))
      .map(([b, e]) => ({ begin: b!, end: e ?? b! }));
    return { name, type: "RANGES", ranges: { range } };
  }
  if (/^\{.*\}$/.test(v)) {
    return {
      name,
      type: "SET",
      set: {
        item: v
          .slice(1, -1)
          .split(",")
          .map((s) => s.trim()),
      },
    };
  }
  return { name, type: "TEXT", text: { value: v } };
}

export function parseAttributeFlag(text: string): Attribute[] {
  const out: Attribute[] = [];
  for (const part of text.split(";").map((s) => s.trim())) {
    if (!part) continue;
    const i = part.indexOf(":");
    if (i <= 0) throw new Error(`bad attribute '${part}': expected name:value`);
    out.push(parseAttribute(part.slice(0, i).trim(), part.slice(i + 1)));
  }
  return out;
}

/** Reads `<dir>/<name>` files; later sources override earlier ones by name. */
export function readAttributeDir(dir: string): Attribute[] {
  if (!existsSync(dir)) return [];
  const out: Attribute[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    out.push(parseAttribute(name, readFileSync(path, "utf8")));
  }
  return out;
}

export function mergeAttributes(...lists: Attribute[][]): Attribute[] {
  const byName = new Map<string, Attribute>();
  for (const list of lists) for (const a of list) byName.set(a.name, a);
  return [...byName.values()];
}
