// Resource arithmetic. Internally every resource is kept in the refinement format
// (`reservations` stack, possibly empty; no `role`/`reservation`; no `allocation_info`),
// and converted to the format a framework asked for (RESERVATION_REFINEMENT or not) only
// when written out. Scalars are fixed point with three decimals, as in Mesos.
import type { Resource, ReservationInfo } from "../../../src/mesos/types/index.js";

export type Res = Resource & { reservations: ReservationInfo[] };

const round3 = (v: number) => Math.round(v * 1000) / 1000;

export class ResourceFormatError extends Error {}

/** Converts any accepted input format to the internal one; throws on mixed formats. */
export function normalize(r: Resource): Res {
  const out: Res = { name: r.name, type: r.type, reservations: [] };
  if (r.reservations && r.reservations.length > 0) {
    if (r.role !== undefined || r.reservation !== undefined) {
      throw new ResourceFormatError(
        "Resource must not have both 'reservations' and 'role'/'reservation' set",
      );
    }
    out.reservations = r.reservations.map((x) => cleanReservation(x));
  } else if (r.role !== undefined && r.role !== "*") {
    out.reservations = [
      r.reservation
        ? cleanReservation({ ...r.reservation, type: "DYNAMIC", role: r.role })
        : { type: "STATIC", role: r.role },
    ];
  } else if (r.reservation) {
    throw new ResourceFormatError("Resource with 'reservation' must have a non-'*' role");
  }
  if (r.type === "SCALAR") out.scalar = { value: round3(Number(r.scalar?.value ?? 0)) };
  if (r.type === "RANGES") {
    out.ranges = {
      range: mergeRanges((r.ranges?.range ?? []).map((x) => [Number(x.begin), Number(x.end)])).map(
        ([b, e]) => ({ begin: b, end: e }),
      ),
    };
  }
  if (r.type === "SET") out.set = { item: [...new Set(r.set?.item ?? [])].sort() };
  if (r.disk) out.disk = r.disk;
  if (r.shared) out.shared = {};
  if (r.revocable) out.revocable = {};
  if (r.provider_id) out.provider_id = r.provider_id;
  return out;
}

function cleanReservation(x: ReservationInfo): ReservationInfo {
  const c: ReservationInfo = {};
  if (x.type) c.type = x.type;
  if (x.role !== undefined) c.role = x.role;
  if (x.principal !== undefined) c.principal = x.principal;
  if (x.labels && (x.labels.labels?.length ?? 0) > 0) c.labels = x.labels;
  return c;
}

const KEY = Symbol("resource identity");

/** Identity of a resource apart from its quantity. Cached on the object: identity fields
 *  are never mutated in place (quantities are replaced, and copies that change identity
 *  are made with structuredClone, which drops the cache). */
export function keyOf(r: Res): string {
  const cached = (r as Res & { [KEY]?: string })[KEY];
  if (cached !== undefined) return cached;
  const key = JSON.stringify([
    r.name,
    r.type,
    r.reservations,
    r.disk ?? null,
    !!r.shared,
    !!r.revocable,
    r.provider_id?.value ?? null,
  ]);
  (r as Res & { [KEY]?: string })[KEY] = key;
  return key;
}

function mergeRanges(list: [number, number][]): [number, number][] {
  const sorted = list.filter(([b, e]) => e >= b).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [b, e] of sorted) {
    const last = out[out.length - 1];
    if (last && b <= last[1] + 1) last[1] = Math.max(last[1], e);
    else out.push([b, e]);
  }
  return out;
}

function rangesOf(r: Res): [number, number][] {
  return (r.ranges?.range ?? []).map((x) => [Number(x.begin), Number(x.end)]);
}

function subtractRanges(a: [number, number][], b: [number, number][]): [number, number][] {
  let cur = a;
  for (const [bb, be] of b) {
    const next: [number, number][] = [];
    for (const [ab, ae] of cur) {
      if (be < ab || bb > ae) next.push([ab, ae]);
      else {
        if (bb > ab) next.push([ab, bb - 1]);
        if (be < ae) next.push([be + 1, ae]);
      }
    }
    cur = next;
  }
  return cur;
}

function rangesContain(a: [number, number][], b: [number, number][]): boolean {
  return b.every(([bb, be]) => a.some(([ab, ae]) => ab <= bb && be <= ae));
}

export function isEmpty(r: Res): boolean {
  if (r.type === "SCALAR") return (r.scalar?.value ?? 0) <= 0;
  if (r.type === "RANGES") return (r.ranges?.range?.length ?? 0) === 0;
  if (r.type === "SET") return (r.set?.item?.length ?? 0) === 0;
  return true;
}

/** Shallow: nested quantity objects are replaced, never mutated, by this module. */
function clone(r: Res): Res {
  return { ...r };
}

/** A persistent volume or a MOUNT disk is indivisible: it never merges or splits. */
function indivisible(r: Res): boolean {
  return !!r.disk?.persistence || r.disk?.source?.type === "MOUNT";
}

/** A multiset of resources with Mesos semantics (add merges equal identities). */
export class Resources {
  list: Res[];
  /** Bumped by every change (add, subtract): lets the allocator skip unchanged agents. */
  version = 0;
  constructor(list: Res[] = []) {
    this.list = [];
    for (const r of list) this.add(r);
  }

  static of(list: Resource[]): Resources {
    return new Resources(list.map(normalize));
  }

  copy(): Resources {
    const c = new Resources();
    c.list = this.list.map(clone);
    return c;
  }

  add(r: Res): this {
    if (isEmpty(r)) return this;
    this.version += 1;
    const k = keyOf(r);
    const same = indivisible(r) ? undefined : this.list.find((x) => keyOf(x) === k);
    if (!same) {
      this.list.push(clone(r));
      return this;
    }
    if (r.type === "SCALAR") same.scalar = { value: round3(same.scalar!.value + r.scalar!.value) };
    else if (r.type === "RANGES") {
      same.ranges = {
        range: mergeRanges([...rangesOf(same), ...rangesOf(r)]).map(([b, e]) => ({
          begin: b,
          end: e,
        })),
      };
    } else if (r.type === "SET") {
      same.set = { item: [...new Set([...(same.set!.item ?? []), ...(r.set!.item ?? [])])].sort() };
    }
    return this;
  }

  addAll(rs: Iterable<Res>): this {
    for (const r of rs) this.add(r);
    return this;
  }

  containsOne(r: Res): boolean {
    if (isEmpty(r)) return true;
    const k = keyOf(r);
    if (indivisible(r)) {
      return this.list.some((x) => keyOf(x) === k && quantityEqual(x, r));
    }
    const same = this.list.find((x) => keyOf(x) === k);
    if (!same) return false;
    if (r.type === "SCALAR") return same.scalar!.value + 1e-9 >= r.scalar!.value;
    if (r.type === "RANGES") return rangesContain(rangesOf(same), rangesOf(r));
    if (r.type === "SET") return (r.set!.item ?? []).every((i) => same.set!.item?.includes(i));
    return false;
  }

  contains(rs: Iterable<Res>): boolean {
    const tmp = this.copy();
    for (const r of rs) {
      if (!tmp.containsOne(r)) return false;
      tmp.subtract(r);
    }
    return true;
  }

  /** Removes r; the caller checks containment first. */
  subtract(r: Res): this {
    if (isEmpty(r)) return this;
    const k = keyOf(r);
    const idx = this.list.findIndex(
      (x) => keyOf(x) === k && (!indivisible(r) || quantityEqual(x, r)),
    );
    if (idx < 0) return this;
    this.version += 1;
    const same = this.list[idx]!;
    if (indivisible(r)) this.list.splice(idx, 1);
    else if (r.type === "SCALAR")
      same.scalar = { value: round3(same.scalar!.value - r.scalar!.value) };
    else if (r.type === "RANGES") {
      same.ranges = {
        range: subtractRanges(rangesOf(same), rangesOf(r)).map(([b, e]) => ({ begin: b, end: e })),
      };
    } else if (r.type === "SET") {
      same.set = { item: (same.set!.item ?? []).filter((i) => !r.set!.item?.includes(i)) };
    }
    if (isEmpty(same) && this.list[idx] === same) this.list.splice(idx, 1);
    return this;
  }

  subtractAll(rs: Iterable<Res>): this {
    for (const r of rs) this.subtract(r);
    return this;
  }

  filter(pred: (r: Res) => boolean): Resources {
    const c = new Resources();
    c.list = this.list.filter(pred).map(clone);
    return c;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  scalar(name: string): number {
    let sum = 0;
    for (const r of this.list) if (r.name === name) sum += r.scalar?.value ?? 0;
    return round3(sum);
  }
}

function quantityEqual(a: Res, b: Res): boolean {
  if (a.type === "SCALAR") return Math.abs(a.scalar!.value - b.scalar!.value) < 1e-9;
  return JSON.stringify(a.ranges ?? a.set) === JSON.stringify(b.ranges ?? b.set);
}

/** The role a resource is reserved to (last of the stack), or "*" when unreserved. */
export function reservationRole(r: Res): string {
  return r.reservations[r.reservations.length - 1]?.role ?? "*";
}

/** True when `role` may be offered r: unreserved, or reserved to role or an ancestor. */
export function allocatableTo(r: Res, role: string): boolean {
  const rr = reservationRole(r);
  return rr === "*" || rr === role || role.startsWith(`${rr}/`);
}

/** Writes a resource in the format the framework uses, with allocation_info when given. */
export function present(r: Res, refinement: boolean, role?: string): Resource {
  const out: Resource = { name: r.name, type: r.type };
  if (r.scalar) out.scalar = { value: r.scalar.value };
  if (r.ranges) out.ranges = r.ranges;
  if (r.set) out.set = r.set;
  if (role !== undefined) out.allocation_info = { role };
  if (refinement) {
    if (r.reservations.length > 0) out.reservations = r.reservations;
  } else {
    const last = r.reservations[r.reservations.length - 1];
    out.role = last?.role ?? "*";
    if (last && last.type === "DYNAMIC") {
      const rv: ReservationInfo = {};
      if (last.principal !== undefined) rv.principal = last.principal;
      if (last.labels) rv.labels = last.labels;
      out.reservation = rv;
    }
  }
  if (r.disk) out.disk = r.disk;
  if (r.shared) out.shared = {};
  if (r.revocable) out.revocable = {};
  if (r.provider_id) out.provider_id = r.provider_id;
  return out;
}

/** Parses the agent flag syntax `cpus:4;mem:1024;ports:[31000-32000];disk(role):10`. */
export function parseResourceFlag(text: string): Res[] {
  // Mesos also accepts a JSON array of Resource objects (needed for disk sources).
  if (text.trim().startsWith("[")) return (JSON.parse(text) as Resource[]).map(normalize);
  const out: Res[] = [];
  for (const part of text.split(";").map((s) => s.trim())) {
    if (!part) continue;
    const m = /^([a-zA-Z0-9_.-]+)(?:\(([^)]+)\))?:(.+)$/.exec(part);
    if (!m) throw new ResourceFormatError(`bad resource '${part}'`);
    const [, name, role, value] = m as unknown as [string, string, string | undefined, string];
    const reservations: ReservationInfo[] = role && role !== "*" ? [{ type: "STATIC", role }] : [];
    if (value.startsWith("[")) {
      const range = value
        .slice(1, -1)
        .split(",")
        .map((s) => s.trim().split("-").map(Number))
        .map(([b, e]) => ({ begin: b!, end: e ?? b! }));
      out.push({ name, type: "RANGES", ranges: { range }, reservations });
    } else if (value.startsWith("{")) {
      const item = value
        .slice(1, -1)
        .split(",")
        .map((s) => s.trim());
      out.push({ name, type: "SET", set: { item }, reservations });
    } else {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new ResourceFormatError(`bad scalar in '${part}'`);
      out.push({ name, type: "SCALAR", scalar: { value: n }, reservations });
    }
  }
  return out;
}
