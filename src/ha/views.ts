// The leader's read views as they are kept in the state store for its standbys: the summary,
// health, pools, every plan and every node, cut into pieces (`views/...`) small enough that a
// change rewrites only the pieces it touched (a plan of thousands of steps or a thousand
// nodes is megabytes of JSON). `views/meta` lists every piece with a hash of its JSON text;
// it is written in the same commit as the pieces, so a reader fetches only the pieces whose
// hash changed and knows a piece it read belongs to the meta it read.
import { createHash } from "node:crypto";
import type { NodeView, Summary } from "../framework/operator-view.js";
import type { HealthReport } from "../framework/health/types.js";
import type { PlanView, StepView } from "../framework/plan/types.js";
import type { PoolView } from "../framework/scheduler.js";

export const VIEWS_PREFIX = "views";
export const META_KEY = `${VIEWS_PREFIX}/meta`;
/** Steps per piece of a plan and nodes per piece of the node list: pieces of tens of KiB. */
export const STEPS_PER_PIECE = 250;
export const NODES_PER_PIECE = 50;

/** What the leader publishes: the answers of its read routes. */
export interface ViewSet {
  summary: Summary;
  health: HealthReport;
  pools: PoolView[];
  /** Every plan as GET /v1/plans lists it (steps without hostnames). */
  plans: PlanView[];
  /** Every node, in the order of GET /v1/nodes without parameters. */
  nodes: NodeView[];
}

export interface ViewMeta {
  format: 1;
  /** When the leader last found its views as stored, changed or not (epoch ms). */
  checkedAt: number;
  /** When they last changed. */
  changedAt: number;
  /** Who published them. */
  leader: { id: string; api: string } | null;
  /** Every piece's key and the hash of its JSON text. */
  pieces: Record<string, string>;
  /** Plans in order, with how many pieces of steps each has. */
  plans: { id: string; stepPieces: number }[];
  nodePieces: number;
}

/** A plan without its steps, and how many steps each phase has. */
interface PlanHead {
  plan: PlanView;
  stepCounts: number[];
}

const summaryKey = `${VIEWS_PREFIX}/summary`;
const healthKey = `${VIEWS_PREFIX}/health`;
const poolsKey = `${VIEWS_PREFIX}/pools`;
// Plans by position (ids are anyone's text, keys are not); the meta names them.
const planHeadKey = (n: number) => `${VIEWS_PREFIX}/plans/${n}/head`;
const planStepsKey = (n: number, k: number) => `${VIEWS_PREFIX}/plans/${n}/steps/${k}`;
const nodesKey = (k: number) => `${VIEWS_PREFIX}/nodes/${k}`;

export function hashText(text: string): string {
  // Tells versions of a piece apart (no adversary here): SHA-1 is several times faster.
  return createHash("sha1").update(text, "utf8").digest("base64url");
}

function slices<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The pieces of a view set by key, and the layout the meta records. */
export function cut(set: ViewSet): {
  pieces: Map<string, unknown>;
  plans: ViewMeta["plans"];
  nodePieces: number;
} {
  const pieces = new Map<string, unknown>([
    [summaryKey, set.summary],
    [healthKey, set.health],
    [poolsKey, set.pools],
  ]);
  const plans = set.plans.map((p, n) => {
    const head: PlanHead = {
      plan: { ...p, phases: p.phases.map((ph) => ({ ...ph, steps: [] })) },
      stepCounts: p.phases.map((ph) => ph.steps.length),
    };
    pieces.set(planHeadKey(n), head);
    const parts = slices(
      p.phases.flatMap((ph) => ph.steps),
      STEPS_PER_PIECE,
    );
    parts.forEach((steps, k) => pieces.set(planStepsKey(n, k), steps));
    return { id: p.id, stepPieces: parts.length };
  });
  const nodeParts = slices(set.nodes, NODES_PER_PIECE);
  nodeParts.forEach((nodes, k) => pieces.set(nodesKey(k), nodes));
  return { pieces, plans, nodePieces: nodeParts.length };
}

/** The view set back from the meta and its pieces; throws if a piece is missing. */
export function assemble(meta: ViewMeta, pieces: Map<string, unknown>): ViewSet {
  const piece = <T>(key: string): T => {
    if (!pieces.has(key)) throw new Error(`view piece ${key} missing`);
    return pieces.get(key) as T;
  };
  const plans = meta.plans.map(({ stepPieces }, n): PlanView => {
    const head = piece<PlanHead>(planHeadKey(n));
    const steps: StepView[] = [];
    for (let k = 0; k < stepPieces; k++) steps.push(...piece<StepView[]>(planStepsKey(n, k)));
    let at = 0;
    const phases = head.plan.phases.map((ph, i) => {
      const count = head.stepCounts[i] ?? 0;
      const own = steps.slice(at, at + count);
      at += count;
      return { ...ph, steps: own };
    });
    return { ...head.plan, phases };
  });
  const nodes: NodeView[] = [];
  for (let k = 0; k < meta.nodePieces; k++) nodes.push(...piece<NodeView[]>(nodesKey(k)));
  return {
    summary: piece<Summary>(summaryKey),
    health: piece<HealthReport>(healthKey),
    pools: piece<PoolView[]>(poolsKey),
    plans,
    nodes,
  };
}

export function isViewMeta(v: unknown): v is ViewMeta {
  const m = v as Partial<ViewMeta> | undefined;
  return (
    typeof m === "object" &&
    m !== null &&
    m.format === 1 &&
    typeof m.checkedAt === "number" &&
    typeof m.pieces === "object" &&
    Array.isArray(m.plans) &&
    typeof m.nodePieces === "number"
  );
}
