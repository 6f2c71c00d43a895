// Taking a node out of the cluster for good (decommission) and letting it back in
// (recommission), in platform-neutral words: what an operator asks, what a node's state then
// is, and how a platform refuses (an HTTP status, a stable code, and the figures behind it).

export interface DecommissionRequest {
  /** Also remove the node's storage client (only when nothing is mapped through it). */
  removeClient: boolean;
}

/** A node on its way out, or out: it is not on-boarded again until recommissioned. */
export interface NodeDecommission {
  state: "decommissioning" | "decommissioned";
  /** When the operator asked. */
  since: number;
  removeClient: boolean;
}

export interface DecommissionStarted {
  /** The plan that does the work (its progress shows in /v1/plans). */
  planId: string;
  phaseId: string;
  message: string;
}

/** A platform's refusal of a node request; the API answers with its status, code and details. */
export class NodeRequestRefused extends Error {
  constructor(
    readonly statusCode: 404 | 409 | 503,
    readonly code: string,
    message: string,
    /** The figures behind the refusal (e.g. per pool: what the node holds, what room is left). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "NodeRequestRefused";
  }
}
