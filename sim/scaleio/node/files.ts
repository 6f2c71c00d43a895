// What a node sees on disk: mapped volumes under <root>/dev (one sparse backing file per
// volume, shared by every node that maps it) and the configuration files packages write.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  openSync,
  closeSync,
  lstatSync,
  readlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { ScaleioSystem } from "../model/system.js";
import type { Sdc, Volume } from "../model/types.js";

export class NodeFiles {
  constructor(
    private readonly sys: ScaleioSystem,
    private readonly stateDir: string,
  ) {
    mkdirSync(join(stateDir, "volumes"), { recursive: true });
    sys.listen({
      mapped: (v, sdc) => this.link(v, sdc),
      unmapped: (v, sdc) => this.unlink(v, sdc),
      resized: (v) => this.grow(v),
      removed: (v) => rmSync(this.backing(v), { force: true }),
    });
    sys.addSampler(() => this.sampleWrites());
  }

  /**
   * Bytes that nodes wrote through a mapped device count as written data: thin volumes
   * consume pool capacity as their backing files fill (allocated blocks, not apparent size).
   */
  private sampleWrites(): void {
    for (const v of this.sys.listVolumes()) {
      let allocatedKb: number;
      try {
        allocatedKb = Math.floor((statSync(this.backing(v)).blocks * 512) / 1024);
      } catch {
        continue; // never mapped: no backing file yet
      }
      const delta = Math.min(allocatedKb, v.sizeKb) - v.writtenKb;
      if (delta <= 0) continue;
      try {
        this.sys.writeVolume(v.id, delta);
      } catch {
        // pool full or data unavailable: the model keeps its last count
      }
    }
  }

  backing(v: Volume): string {
    return join(this.stateDir, "volumes", `${v.id}.img`);
  }

  /** The stable name clients look for (reference 2.4). */
  byIdPath(root: string, v: Volume): string {
    return join(root, "dev", "disk", "by-id", `emc-vol-${this.sys.id}-${v.id}`);
  }

  private ensureBacking(v: Volume): string {
    const file = this.backing(v);
    if (!existsSync(file)) closeSync(openSync(file, "w"));
    this.grow(v);
    return file;
  }

  private grow(v: Volume): void {
    const file = this.backing(v);
    if (existsSync(file)) truncateSync(file, v.sizeKb * 1024);
  }

  private rootOf(sdc: Sdc): string | undefined {
    return this.sys.nodes.get(sdc.ip)?.root;
  }

  private link(v: Volume, sdc: Sdc): void {
    const file = this.ensureBacking(v);
    const root = this.rootOf(sdc);
    if (!root) return;
    const devDir = join(root, "dev");
    mkdirSync(join(devDir, "disk", "by-id"), { recursive: true });
    const used = new Set(readdirSync(devDir).filter((n) => /^scini[a-z]+$/.test(n)));
    let letter = "a";
    for (let i = 0; i < 26 && used.has(`scini${letter}`); i++)
      letter = String.fromCharCode(97 + i + 1);
    const dev = join(devDir, `scini${letter}`);
    rmSync(dev, { force: true });
    symlinkSync(file, dev);
    const byId = this.byIdPath(root, v);
    rmSync(byId, { force: true });
    symlinkSync(`../../scini${letter}`, byId);
  }

  private unlink(v: Volume, sdc: Sdc): void {
    const root = this.rootOf(sdc);
    if (!root) return;
    const byId = this.byIdPath(root, v);
    try {
      if (lstatSync(byId).isSymbolicLink()) {
        const target = readlinkSync(byId);
        rmSync(join(dirname(byId), target), { force: true });
      }
    } catch {
      // not present: nothing to remove
    }
    rmSync(byId, { force: true });
  }
}

/** Writes a file under a node root, creating directories. */
export function writeNodeFile(
  root: string | undefined,
  path: string,
  content: string,
  mode = 0o644,
): void {
  if (!root) return;
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content, { mode });
}

export function removeNodePath(root: string | undefined, path: string): void {
  if (!root) return;
  rmSync(join(root, path), { recursive: true, force: true });
}
