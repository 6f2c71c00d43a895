// Resource arithmetic on offers, in the RESERVATION_REFINEMENT format the framework
// subscribes with (unreserved = no `reservations`; dynamic = a stack whose last entry is
// ours). Our reservations carry a label so that they are recognised after any restart.
import type { Attribute, Label, Offer, Resource } from "../mesos/types/common.js";

export const RESERVATION_LABEL = "scaleio-framework";

export interface Amount {
  cpus: number;
  memMb: number;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function isUnreserved(r: Resource): boolean {
  return !r.reservations || r.reservations.length === 0;
}

/** Reserved dynamically for `role` by this framework (labelled with `owner`). */
export function isOurs(r: Resource, role: string, owner: string): boolean {
  const top = r.reservations?.at(-1);
  return (
    top?.type === "DYNAMIC" &&
    top.role === role &&
    (top.labels?.labels ?? []).some((l: Label) => l.key === RESERVATION_LABEL && l.value === owner)
  );
}

export function scalarOf(
  resources: Resource[],
  name: string,
  pick: (r: Resource) => boolean,
): number {
  return round3(
    resources
      .filter((r) => r.name === name && r.type === "SCALAR" && pick(r))
      .reduce((s, r) => s + (r.scalar?.value ?? 0), 0),
  );
}

export function amountOf(resources: Resource[], pick: (r: Resource) => boolean): Amount {
  return { cpus: scalarOf(resources, "cpus", pick), memMb: scalarOf(resources, "mem", pick) };
}

export function covers(have: Amount, need: Amount): boolean {
  return have.cpus + 1e-9 >= need.cpus && have.memMb + 1e-9 >= need.memMb;
}

/** Scalar resources of `amount`, reserved for `role` by us, in the offer's allocation. */
export function reservedResources(
  amount: Amount,
  role: string,
  principal: string | undefined,
  owner: string,
): Resource[] {
  const reservation = {
    type: "DYNAMIC" as const,
    role,
    ...(principal ? { principal } : {}),
    labels: { labels: [{ key: RESERVATION_LABEL, value: owner }] },
  };
  const out: Resource[] = [];
  if (amount.cpus > 0) {
    out.push({
      name: "cpus",
      type: "SCALAR",
      scalar: { value: round3(amount.cpus) },
      allocation_info: { role },
      reservations: [reservation],
    });
  }
  if (amount.memMb > 0) {
    out.push({
      name: "mem",
      type: "SCALAR",
      scalar: { value: round3(amount.memMb) },
      allocation_info: { role },
      reservations: [reservation],
    });
  }
  return out;
}

/** Amount in `a` beyond `b`, per resource (never negative). */
export function excessOf(a: Amount, b: Amount): Amount {
  return {
    cpus: round3(Math.max(0, a.cpus - b.cpus)),
    memMb: round3(Math.max(0, a.memMb - b.memMb)),
  };
}

/**
 * `amount` cut from the offer's resources that `pick` selects, each piece a copy of an
 * offered resource (same reservation stack, labels and allocation), as UNRESERVE needs.
 */
export function takeFrom(
  resources: Resource[],
  pick: (r: Resource) => boolean,
  amount: Amount,
): Resource[] {
  const out: Resource[] = [];
  const left: Record<string, number> = { cpus: amount.cpus, mem: amount.memMb };
  for (const r of resources) {
    const want = left[r.name];
    if (want === undefined || want <= 1e-9 || r.type !== "SCALAR" || !pick(r)) continue;
    const value = round3(Math.min(want, r.scalar?.value ?? 0));
    if (value <= 0) continue;
    out.push({ ...r, scalar: { value } });
    left[r.name] = round3(want - value);
  }
  return out;
}

/** Mesos attributes as text, the way operators write them (`--attributes`). */
export function attributesAsText(attributes: Attribute[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of attributes ?? []) {
    if (a.type === "TEXT") out[a.name] = a.text?.value ?? "";
    else if (a.type === "SCALAR") out[a.name] = String(a.scalar?.value ?? "");
    else if (a.type === "SET") out[a.name] = (a.set?.item ?? []).join(",");
    else if (a.type === "RANGES") {
      out[a.name] = `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(",")}]`;
    }
  }
  return out;
}

/** The agent's address as the offer gives it (url.address.ip, else the host name). */
export function offerAddress(offer: Offer): string {
  return offer.url?.address.ip ?? offer.url?.address.hostname ?? offer.hostname;
}
