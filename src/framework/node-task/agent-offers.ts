// Mesos may offer one agent's resources in several offers at once (resources freed at
// different moments). Answering them one by one loses sight of what is ours: a launch from the
// offer without our reserved leftovers reserves anew while those come back in the other one,
// and a reservation beyond "the executor and one task" stays behind. So the offers of one
// agent are answered as one: resources together, every offer id in the answer (Mesos takes
// several offers of one agent in one ACCEPT or DECLINE).
import type { Offer, OfferID } from "../../mesos/types/common.js";

/** An agent's offers taken together: the first offer's fields, everyone's resources. */
export interface AgentOffer extends Offer {
  /** The ids of the other offers merged into this one. */
  also?: OfferID[];
}

/** Every offer id an (agent) offer stands for. */
export function idsOf(offer: Offer): OfferID[] {
  return [offer.id, ...((offer as AgentOffer).also ?? [])];
}

/** Two offers of one agent as one. */
export function mergeOffers(a: Offer, b: Offer): AgentOffer {
  const executors = new Map(
    [...(a.executor_ids ?? []), ...(b.executor_ids ?? [])].map((e) => [e.value, e]),
  );
  const merged: AgentOffer = {
    ...a,
    resources: [...(a.resources ?? []), ...(b.resources ?? [])],
    ...(executors.size > 0 ? { executor_ids: [...executors.values()] } : {}),
    also: [...((a as AgentOffer).also ?? []), ...idsOf(b)],
  };
  // The later offer tells the agent's maintenance window as it is now.
  if (b.unavailability) merged.unavailability = b.unavailability;
  else delete merged.unavailability;
  return merged;
}

/** One offer per agent, in the order agents first appear. */
export function byAgent(offers: Offer[]): Offer[] {
  const out = new Map<string, Offer>();
  for (const o of offers) {
    const agentId = o.agent_id.value;
    const before = out.get(agentId);
    out.set(agentId, before ? mergeOffers(before, o) : o);
  }
  return [...out.values()];
}
