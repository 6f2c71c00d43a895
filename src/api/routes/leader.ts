// GET /v1/leader: whether this scheduler leads, and who does (its id, process, API URL and
// since when), so that a client of a standby knows where changes go.
import type { FastifyInstance } from "fastify";
import type { Guard } from "../auth.js";
import type { LeaderView } from "../../ha/elector.js";

export interface LeaderAnswer {
  leader: boolean;
  id: string | null;
  pid: number | null;
  api: string | null;
  since: string | null;
}

export function leaderAnswer(view: LeaderView): LeaderAnswer {
  const cur = view.current;
  return {
    leader: view.leader,
    id: cur?.id ?? null,
    pid: cur?.pid ?? null,
    api: cur?.api ?? null,
    since: cur?.since ?? null,
  };
}

export function leaderRoutes(
  app: FastifyInstance,
  election: { view(): LeaderView },
  guards: { read: Guard[] },
): void {
  app.get("/v1/leader", { onRequest: guards.read }, async () => leaderAnswer(election.view()));
}
