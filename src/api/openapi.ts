// The OpenAPI 3.1 description of the operator API, served at /openapi.json. A test checks it
// with a validator and compares its paths and methods with the routes actually registered.
const json = (schema: unknown, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const err = (description: string) => json(ref("Error"), description);
const auth = [{ bearer: [] }];
const planParam = {
  name: "planId",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "plan id (e.g. deploy)",
};
const agentParam = {
  name: "agentId",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "Mesos agent id",
};
const readErrors = { "401": err("token required (--api-protect-reads)") };
const writeErrors = {
  "400": err("malformed body (not a JSON object, or unknown fields)"),
  "401": err("missing or wrong bearer token"),
  "404": err("unknown plan, phase or step"),
};
const body = (schema: unknown, required: boolean) => ({
  required,
  content: { "application/json": { schema } },
});
const planAction = (summary: string, bodySchema: unknown, required: boolean) => ({
  post: {
    summary,
    security: auth,
    parameters: [planParam],
    requestBody: body(bodySchema, required),
    responses: { "200": json(ref("PlanView"), "the plan after the change"), ...writeErrors },
  },
});
const phaseBody = {
  type: "object",
  additionalProperties: false,
  properties: { phase: { type: "string", description: "only this phase" } },
};
const stepBody = {
  type: "object",
  additionalProperties: false,
  required: ["step"],
  properties: { step: { type: "string", description: "step id, e.g. join-sds/agent-3" } },
};
const str = { type: "string" };
const num = { type: "number" };
const aggregate = { enum: ["PENDING", "IN_PROGRESS", "COMPLETE", "ERROR", "WAITING"] };
const stepStatus = { enum: ["PENDING", "IN_PROGRESS", "COMPLETE", "ERROR"] };

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "ScaleIO framework operator API",
      version,
      description:
        "Status and control of the ScaleIO Mesos framework. Mutations need a bearer token; reads too with --api-protect-reads.",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "the operator API token" },
        executorToken: {
          type: "http",
          scheme: "bearer",
          description: "a single-use token the scheduler gave the executor",
        },
      },
      schemas: {
        DecommissionRoom: {
          type: "object",
          description:
            "one pool the node's SDS is in, without it: what it holds, the free capacity the rest would have with the spare kept, and the fault units left",
          required: [
            "pool",
            "nodeUsedBytes",
            "freeAfterBytes",
            "spareAfterBytes",
            "sparePercentAfter",
            "faultUnitsAfter",
          ],
          properties: {
            pool: { type: "string", description: "<domain>/<pool>" },
            nodeUsedBytes: num,
            freeAfterBytes: num,
            spareAfterBytes: num,
            sparePercentAfter: num,
            faultUnitsAfter: num,
          },
        },
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: str, code: { type: "string", description: "stable error code" } },
        },
        Health: {
          type: "object",
          required: ["healthy", "problems"],
          properties: {
            healthy: { type: "boolean" },
            role: {
              enum: ["leader", "standby"],
              description:
                "with the state in ZooKeeper only: whether this scheduler leads (a standby answers 200)",
            },
            leader: {
              type: ["string", "null"],
              description: "a standby's only: the leader's API URL (null while none is elected)",
            },
            problems: { type: "array", items: str },
            cluster: {
              type: "object",
              description: "the cluster's health (GET /v1/health), not the scheduler's",
              required: ["status", "conditions"],
              properties: {
                status: { enum: ["healthy", "degraded", "critical", "deploying", "unknown"] },
                conditions: { type: "array", items: str },
              },
            },
          },
        },
        Leader: {
          type: "object",
          required: ["leader", "id", "pid", "api", "since"],
          properties: {
            leader: { type: "boolean", description: "whether the scheduler answering leads" },
            id: { type: ["string", "null"], description: "the leader's candidate id" },
            pid: { type: ["integer", "null"], description: "the leader's process id" },
            api: {
              type: ["string", "null"],
              description: "the leader's API URL: send changes there",
            },
            since: { type: ["string", "null"], description: "when it began to lead (ISO 8601)" },
          },
        },
        Version: {
          type: "object",
          required: ["versionint", "versionstr", "version"],
          properties: { versionint: { type: "integer" }, versionstr: str, version: str },
        },
        Summary: {
          type: "object",
          required: ["platform", "framework", "health", "problems", "plans"],
          properties: {
            platform: str,
            framework: {
              type: "object",
              required: ["subscribed", "role", "name"],
              properties: { id: str, subscribed: { type: "boolean" }, role: str, name: str },
            },
            health: { enum: ["healthy", "degraded", "critical", "deploying", "unknown"] },
            conditions: { type: "array", items: ref("Condition") },
            problems: { type: "array", items: str },
            cluster: {
              type: "object",
              required: [
                "systemId",
                "systemName",
                "components",
                "capacity",
                "alerts",
                "observedAt",
              ],
              properties: {
                systemId: str,
                systemName: { type: ["string", "null"] },
                state: { ...str, description: "the cluster's state in the platform's words" },
                components: {
                  type: "array",
                  description: "per kind of the platform's components: how many, how many serve",
                  items: {
                    type: "object",
                    required: ["kind", "total", "ready"],
                    properties: { kind: str, total: num, ready: num },
                  },
                },
                details: {
                  type: "object",
                  description: "more facts in the platform's words, by label",
                  additionalProperties: str,
                },
                capacity: {
                  type: "object",
                  required: ["rawBytes", "usableBytes", "freeBytes"],
                  properties: { rawBytes: num, usableBytes: num, freeBytes: num },
                },
                alerts: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["type", "severity"],
                    properties: { type: str, severity: str, message: str },
                  },
                },
                observedAt: num,
              },
            },
            plans: {
              type: "array",
              items: {
                type: "object",
                required: ["id", "status", "complete", "total"],
                properties: { id: str, status: aggregate, complete: num, total: num },
              },
            },
          },
        },
        Node: {
          type: "object",
          required: [
            "agentId",
            "hostname",
            "ip",
            "attributes",
            "lost",
            "lastSeen",
            "roles",
            "devices",
            "steps",
          ],
          properties: {
            agentId: str,
            hostname: str,
            ip: str,
            faultDomain: {
              type: "object",
              required: ["region", "zone"],
              properties: { region: str, zone: str },
            },
            attributes: { type: "object", additionalProperties: str },
            lost: { type: "boolean" },
            lostSince: num,
            lastSeen: num,
            roles: { type: "array", items: str },
            devices: {
              type: "array",
              items: {
                type: "object",
                required: ["path"],
                properties: { path: str, domain: str, pool: str },
              },
            },
            client: {
              type: "object",
              description: "the agent as a client of the storage, as the cluster sees it",
              properties: { kind: str, id: str, state: str },
            },
            decommission: {
              type: "object",
              description:
                "set while the node is being (or has been) decommissioned: it is not on-boarded again until recommissioned",
              required: ["state", "since", "removeClient"],
              properties: {
                state: { type: "string", enum: ["decommissioning", "decommissioned"] },
                since: num,
                removeClient: { type: "boolean" },
              },
            },
            versions: {
              type: "object",
              description: "installed software versions by component",
              additionalProperties: str,
            },
            maintenance: {
              type: "object",
              description:
                "set while the node is in maintenance or on its way in or out (the `maintenance` plan)",
              required: ["state", "by", "since"],
              properties: {
                state: { type: "string", enum: ["entering", "in", "exiting"] },
                by: { type: "string", enum: ["mesos", "operator"] },
                since: num,
              },
            },
            steps: {
              type: "array",
              items: {
                type: "object",
                required: ["planId", "phaseId", "stepId", "name", "status", "updatedAt"],
                properties: {
                  planId: str,
                  phaseId: str,
                  stepId: str,
                  name: str,
                  status: stepStatus,
                  message: str,
                  lastError: str,
                  updatedAt: num,
                },
              },
            },
            lastError: str,
          },
        },
        StepView: {
          type: "object",
          required: ["id", "name", "status", "attempts", "updatedAt"],
          properties: {
            id: str,
            name: str,
            asset: str,
            hostname: {
              ...str,
              description: "the agent's (GET /v1/plans/{planId}, agents' steps)",
            },
            after: { type: "array", items: str },
            status: stepStatus,
            attempts: { type: "integer" },
            lastError: str,
            message: str,
            startedAt: num,
            updatedAt: num,
            retryAt: num,
            forced: { type: "boolean" },
            failingSince: num,
            fingerprint: {
              ...str,
              description: "digest of the inputs the step last ran with; other inputs run it again",
            },
          },
        },
        PhaseView: {
          type: "object",
          required: ["id", "name", "strategy", "dependsOn", "status", "paused", "steps"],
          properties: {
            id: str,
            name: str,
            strategy: { enum: ["serial", "parallel"] },
            dependsOn: { type: "array", items: str },
            status: aggregate,
            paused: { type: "boolean" },
            steps: { type: "array", items: ref("StepView") },
          },
        },
        PlanView: {
          type: "object",
          required: ["id", "name", "strategy", "status", "paused", "phases", "progress"],
          properties: {
            id: str,
            name: str,
            strategy: { enum: ["serial", "parallel"] },
            status: aggregate,
            paused: { type: "boolean" },
            phases: { type: "array", items: ref("PhaseView") },
            progress: {
              type: "object",
              required: ["complete", "total"],
              properties: { complete: num, total: num },
            },
          },
        },
        Condition: {
          type: "object",
          required: ["type", "severity", "object", "message", "since"],
          properties: {
            type: str,
            severity: { enum: ["warning", "critical"] },
            object: str,
            message: str,
            since: num,
            values: { type: "object", additionalProperties: num },
          },
        },
        HealthReport: {
          type: "object",
          required: ["status", "conditions"],
          properties: {
            status: { enum: ["healthy", "degraded", "critical", "deploying", "unknown"] },
            conditions: { type: "array", items: ref("Condition") },
          },
        },
        Pool: {
          type: "object",
          required: ["object", "id", "name", "group", "usedPercent", "sparePercentage", "capacity"],
          properties: {
            object: str,
            id: str,
            name: str,
            group: str,
            usedPercent: num,
            sparePercentage: num,
            capacity: {
              type: "object",
              required: ["totalBytes", "usedBytes", "spareBytes", "freeBytes"],
              properties: { totalBytes: num, usedBytes: num, spareBytes: num, freeBytes: num },
            },
            rebuild: {
              type: "object",
              required: ["remainingBytes", "progressPercent"],
              properties: { remainingBytes: num, progressPercent: num },
            },
          },
        },
        Event: {
          type: "object",
          required: ["id", "type", "time", "data"],
          properties: {
            id: { type: "integer" },
            type: { enum: ["plan", "step", "node", "summary", "log", "health"] },
            time: num,
            data: {
              description:
                "plan: PlanChange (never a whole plan: GET /v1/plans/{id}); step: {planId, phaseId, step}; node: a node; summary: the summary; log: {time, level, msg}; health: the health report with its changes",
            },
          },
        },
        PlanChange: {
          type: "object",
          description:
            "A plan's status and counts, and only the phases whose status or pause changed",
          required: ["id", "name", "status", "paused", "progress", "phases"],
          properties: {
            id: str,
            name: str,
            status: str,
            paused: { type: "boolean" },
            progress: {
              type: "object",
              required: ["complete", "total"],
              properties: { complete: num, total: num },
            },
            phases: {
              type: "array",
              items: {
                type: "object",
                required: ["id", "status", "paused"],
                properties: {
                  id: str,
                  status: str,
                  paused: { type: "boolean" },
                  name: { type: "string", description: "only the first time the phase is told of" },
                },
              },
            },
            removedPhases: { type: "array", items: str },
          },
        },
      },
    },
    paths: {
      "/health": {
        get: {
          summary:
            "Healthy when subscribed to Mesos and the state store is writable (Marathon); a standby (state in ZooKeeper) answers 200 with role standby",
          responses: { "200": json(ref("Health")), "503": json(ref("Health"), "not healthy") },
        },
      },
      "/v1/leader": {
        get: {
          summary:
            "Who leads: only with the state in ZooKeeper (--state zk://...); a standby answers it too (null fields while no leader is known)",
          "x-only-with": "zookeeper-state",
          responses: { "200": json(ref("Leader")), ...readErrors },
        },
      },
      "/version": {
        get: {
          summary: "Version (predecessor's fields kept)",
          responses: { "200": json(ref("Version")) },
        },
      },
      "/api/state": {
        get: {
          summary: "The 2017 scheduler's state document: gone; the answer names its successors",
          deprecated: true,
          responses: {
            "410": json(
              {
                type: "object",
                required: ["error", "successors"],
                properties: { error: str, successors: { type: "array", items: str } },
              },
              "gone: use /v1/summary, /v1/nodes and /v1/plans",
            ),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (text format 0.0.4)",
          responses: {
            "200": { description: "OK", content: { "text/plain": { schema: str } } },
            ...readErrors,
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": json({ type: "object" }) },
        },
      },
      "/v1/summary": {
        get: {
          summary: "Cluster summary: platform, framework, health, capacity, plans",
          responses: { "200": json(ref("Summary")), ...readErrors },
        },
      },
      "/v1/health": {
        get: {
          summary: "The cluster's health: status and active conditions, critical first",
          responses: { "200": json(ref("HealthReport")), ...readErrors },
        },
      },
      "/v1/health/history": {
        get: {
          summary: "The last hour of observations per pool (used %, IOPS, KB/s, latency µs)",
          parameters: [
            {
              name: "since",
              in: "query",
              required: false,
              description: "only samples at or after this time (epoch ms)",
              schema: { type: "integer" },
            },
          ],
          responses: {
            "200": json({
              type: "object",
              required: ["samples"],
              properties: {
                samples: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["at", "pools"],
                    properties: { at: num, pools: { type: "object" } },
                  },
                },
              },
            }),
            "400": json(ref("Error"), "bad since"),
            ...readErrors,
          },
        },
      },
      "/v1/pools": {
        get: {
          summary: "Capacity per pool: total, used, spare and free bytes, rebuild progress",
          responses: {
            "200": json({
              type: "object",
              required: ["pools"],
              properties: { pools: { type: "array", items: ref("Pool") } },
            }),
            ...readErrors,
          },
        },
      },
      "/v1/nodes": {
        get: {
          summary: "Every known agent with its roles, devices and step progress",
          description:
            "Without parameters: every node, as always. With any: the nodes that match, in natural order of hostnames (host-2 before host-10, 127.151.1.4 before 127.151.1.10), a page at a time when limit is given; `next` is the cursor of the next page (absent on the last). A cursor pages on after the last node shown, so nodes joining do not shift later pages.",
          parameters: [
            {
              name: "status",
              in: "query",
              description:
                "error (a step failed), lost, in-progress (steps not done), ok; several separated by commas",
              schema: str,
            },
            {
              name: "q",
              in: "query",
              description:
                "text in the hostname, address or agent id (any case); with * or ? a whole-name pattern",
              schema: { type: "string", minLength: 1, maxLength: 200 },
            },
            {
              name: "sort",
              in: "query",
              description:
                "hostname (default), or status (error, lost, in-progress, ok; then hostname)",
              schema: { enum: ["hostname", "status"] },
            },
            {
              name: "limit",
              in: "query",
              description: "at most this many nodes",
              schema: { type: "integer", minimum: 1, maximum: 1000 },
            },
            {
              name: "cursor",
              in: "query",
              description: "the `next` of the previous page (same sort)",
              schema: str,
            },
          ],
          responses: {
            "200": json({
              type: "object",
              required: ["nodes"],
              properties: {
                nodes: { type: "array", items: ref("Node") },
                next: { ...str, description: "cursor of the next page; absent on the last" },
              },
            }),
            "400": err("a bad parameter (named), or a cursor not from this list's sort"),
            ...readErrors,
          },
        },
      },
      "/v1/nodes/{agentId}": {
        get: {
          summary: "One agent",
          parameters: [agentParam],
          responses: { "200": json(ref("Node")), "404": err("unknown agent"), ...readErrors },
        },
      },
      "/v1/nodes/{agentId}/rescan": {
        post: {
          summary: "Rescan the agent's devices and add new ones per the strategy",
          security: auth,
          parameters: [agentParam],
          requestBody: body({ type: "object", additionalProperties: false }, false),
          responses: {
            "202": json({
              type: "object",
              required: ["accepted"],
              properties: { accepted: { const: true } },
            }),
            "400": err("a body other than {}"),
            "401": err("missing or wrong bearer token"),
            "404": err("unknown agent"),
            "409": err("the agent is lost or not deployed yet"),
            "501": err("the platform cannot rescan"),
          },
        },
      },
      "/v1/nodes/{agentId}/maintenance": {
        post: {
          summary:
            "Put the node into maintenance (`enter: true`) or take it out (`false`), by the same rules as a Mesos maintenance window; the work is the `maintenance` plan",
          security: auth,
          parameters: [agentParam],
          requestBody: body(
            {
              type: "object",
              additionalProperties: false,
              required: ["enter"],
              properties: { enter: { type: "boolean" } },
            },
            true,
          ),
          responses: {
            "202": json({
              type: "object",
              required: ["state", "message"],
              properties: {
                state: { type: "string", enum: ["entering", "exiting", "none"] },
                message: { type: "string" },
              },
            }),
            "400": err("a body other than {enter: boolean}"),
            "401": err("missing or wrong bearer token"),
            "404": err("unknown agent"),
            "409": err(
              "refused, with the reason (another SDS of the domain in maintenance, a pool degraded or rebuilding) and a code: MAINTENANCE_REFUSED or NOT_IN_MAINTENANCE",
            ),
            "501": err("the platform has no maintenance"),
          },
        },
      },
      "/v1/nodes/{agentId}/decommission": {
        post: {
          summary:
            "Take a data node out for good: its SDS removed gracefully (the MDM migrates its data; the step shows it moving), its SDC too with `removeSdc` (only when nothing is mapped to it), REX-Ray's and the isolator's configuration once nothing is mapped to it, its components uninstalled (in existing-cluster mode only what the framework installed), its reservations released; it is then decommissioned and not on-boarded again until recommissioned. The work is the `decommission` plan",
          security: auth,
          parameters: [agentParam],
          requestBody: body(
            {
              type: "object",
              additionalProperties: false,
              properties: {
                removeSdc: {
                  type: "boolean",
                  description:
                    "remove the node's SDC too (the step fails while volumes are mapped to it)",
                },
              },
            },
            false,
          ),
          responses: {
            "202": json({
              type: "object",
              required: ["planId", "phaseId", "message", "pools"],
              properties: {
                planId: str,
                phaseId: str,
                message: str,
                pools: { type: "array", items: ref("DecommissionRoom") },
              },
            }),
            "400": err("a body other than {removeSdc?: boolean}"),
            "401": err("missing or wrong bearer token"),
            "404": err("unknown agent"),
            "409": json({
              type: "object",
              required: ["error", "code"],
              description:
                "refused: INSUFFICIENT_CAPACITY (the rest of a pool could not hold the node's data with its spare kept, or fewer than three fault units would remain; `pools` has the figures), MDM_MEMBER (replace it first), AGENT_LOST, DECOMMISSION_RUNNING (one node at a time), ALREADY_DECOMMISSIONED or NOT_READY",
              properties: {
                error: str,
                code: str,
                pools: { type: "array", items: ref("DecommissionRoom") },
                mdmRole: str,
              },
            }),
            "501": err("the platform cannot decommission nodes"),
            "503": err(
              "the cluster could not be read to check the room left (code CLUSTER_UNREADABLE)",
            ),
          },
        },
      },
      "/v1/nodes/{agentId}/recommission": {
        post: {
          summary:
            "Let a decommissioned node back in: the deploy plan on-boards it again (refused while its SDS is being removed)",
          security: auth,
          parameters: [agentParam],
          requestBody: body({ type: "object", additionalProperties: false, properties: {} }, false),
          responses: {
            "202": json({
              type: "object",
              required: ["accepted", "message"],
              properties: { accepted: { type: "boolean" }, message: str },
            }),
            "400": err("a body other than {}"),
            "401": err("missing or wrong bearer token"),
            "404": err("unknown agent"),
            "409": err(
              "not decommissioned (NOT_DECOMMISSIONED), or its SDS is being removed (DECOMMISSION_RUNNING)",
            ),
            "501": err("the platform cannot recommission nodes"),
          },
        },
      },
      "/v1/nodes/{agentId}/replace": {
        post: {
          summary:
            "Replace a lost or failing node: its MDM member moves to an agent chosen by the placement rules (install, standby, replace_cluster_mdm, old standby removed, SDCs and gateway pointed at the new managers) and an SDS on a lost agent is removed once its data is rebuilt elsewhere; the work is the `replace` plan",
          security: auth,
          parameters: [agentParam],
          requestBody: body(
            {
              type: "object",
              additionalProperties: false,
              properties: {
                force: {
                  type: "boolean",
                  description: "replace a node that is neither lost nor failing",
                },
              },
            },
            false,
          ),
          responses: {
            "202": json({
              type: "object",
              required: ["plan", "message"],
              properties: {
                plan: { type: "string" },
                message: { type: "string" },
                replacement: { type: "string", description: "the agent taking over, if any" },
              },
            }),
            "400": err("a body other than {force?: boolean}"),
            "401": err("missing or wrong bearer token"),
            "404": err("unknown agent"),
            "409": err(
              "refused, with the reason and a code: AGENT_HEALTHY (neither lost nor failing, no force), NO_ELIGIBLE_AGENT, NO_QUORUM, REPLACE_IN_PROGRESS, NOTHING_TO_REPLACE or NOT_PROVISIONED",
            ),
            "501": err("the platform cannot replace nodes"),
          },
        },
      },
      "/v1/plans": {
        get: {
          summary: "All plans",
          responses: {
            "200": json({
              type: "object",
              required: ["plans"],
              properties: { plans: { type: "array", items: ref("PlanView") } },
            }),
            ...readErrors,
          },
        },
      },
      "/v1/plans/upgrade": {
        post: {
          summary:
            "Upgrade the cluster's software to a version, in the platform's documented order (the `upgrade` plan: pause, resume, restart and force-complete as any plan)",
          security: auth,
          requestBody: body(
            {
              type: "object",
              additionalProperties: false,
              required: ["version"],
              properties: {
                version: { type: "string", description: "package version, e.g. 2.0-13000.211" },
                canary: {
                  type: "integer",
                  minimum: 0,
                  description: "pause after this many storage servers until resumed",
                },
              },
            },
            true,
          ),
          responses: {
            "202": json({
              type: "object",
              required: ["accepted", "planId", "version"],
              properties: { accepted: { const: true }, planId: str, version: str },
            }),
            "400": err("a bad version or body (code BAD_VERSION when the platform refuses it)"),
            "401": err("missing or wrong bearer token"),
            "409": err(
              "refused, with a code: DOWNGRADE_REFUSED (something installed is newer), UPGRADE_IN_PROGRESS (another version's upgrade is unfinished) or UPGRADE_NOT_READY",
            ),
            "501": err("the platform cannot be upgraded"),
          },
        },
      },
      "/v1/uninstall": {
        get: {
          summary: "How far an uninstall is (none, teardown, torn-down, finished)",
          responses: {
            "200": json({
              type: "object",
              required: ["state"],
              properties: {
                state: { enum: ["none", "teardown", "torn-down", "finished"] },
                destroyData: { type: "boolean" },
                plan: ref("PlanView"),
              },
            }),
            ...readErrors,
          },
        },
        post: {
          summary:
            "Uninstall: the `teardown` plan removes volumes (only with destroyData), the storage servers, clients, pools, the MDM cluster, the packages and REX-Ray's and the isolator's configuration (in existing-cluster mode only what the framework added); then every reservation is released, the framework is torn down in Mesos, its state deleted and the scheduler exits",
          security: auth,
          requestBody: body(
            {
              type: "object",
              additionalProperties: false,
              required: ["confirm"],
              properties: {
                confirm: { type: "string", description: "the framework's name" },
                destroyData: {
                  type: "boolean",
                  description: "remove existing volumes too (their data is lost)",
                },
              },
            },
            true,
          ),
          responses: {
            "202": json({
              type: "object",
              required: ["accepted", "planId", "destroyData"],
              properties: {
                accepted: { const: true },
                planId: str,
                destroyData: { type: "boolean" },
              },
            }),
            "400": err(
              "a bad body, or code CONFIRMATION_MISMATCH: confirm is not the framework's name",
            ),
            "401": err("missing or wrong bearer token"),
            "409": err("code VOLUMES_EXIST: volumes exist and destroyData was not given"),
            "501": err("the platform cannot be uninstalled"),
            "503": err("code CLUSTER_UNREADABLE: whether volumes exist cannot be told right now"),
          },
        },
      },
      "/v1/plans/{planId}": {
        get: {
          summary: "One plan with its phases and steps",
          description:
            "With status or agent: every phase, holding only the steps that match; statuses and progress stay the whole plan's. A step that belongs to a known agent carries its hostname.",
          parameters: [
            planParam,
            {
              name: "status",
              in: "query",
              description: "PENDING, IN_PROGRESS, COMPLETE or ERROR; several separated by commas",
              schema: str,
            },
            {
              name: "agent",
              in: "query",
              description:
                "an agent id, or text of its hostname or address (with * or ? a whole-name pattern)",
              schema: { type: "string", minLength: 1, maxLength: 200 },
            },
          ],
          responses: {
            "200": json(ref("PlanView")),
            "400": err("a bad parameter (named)"),
            "404": err("unknown plan"),
            ...readErrors,
          },
        },
      },
      "/v1/plans/{planId}/pause": planAction("Pause a plan or one phase", phaseBody, false),
      "/v1/plans/{planId}/resume": planAction("Resume a plan or one phase", phaseBody, false),
      "/v1/plans/{planId}/restart": planAction("Run a step again from scratch", stepBody, true),
      "/v1/plans/{planId}/force-complete": planAction(
        "Mark a step complete without running it",
        stepBody,
        true,
      ),
      "/v1/events": {
        get: {
          summary: "Server-sent events: plan, step, node, summary, log (Last-Event-ID replays)",
          parameters: [
            {
              name: "history",
              in: "query",
              schema: { type: "integer", minimum: 0 },
              description: "replay up to this many recent events first",
            },
            { name: "Last-Event-ID", in: "header", schema: { type: "integer", minimum: 0 } },
          ],
          responses: {
            "200": {
              description: "event stream",
              content: { "text/event-stream": { schema: str } },
            },
            "400": err("bad history or Last-Event-ID"),
            ...readErrors,
          },
        },
      },
      "/v1/executor/secrets": {
        get: {
          tags: ["executor"],
          summary: "For executors: trade a single-use token for the secrets of one node step",
          description:
            "The token is bound to its task (shown in x-scaleio-task-id) and to its agent's address; a token shown wrongly is spent.",
          security: [{ executorToken: [] }],
          parameters: [
            {
              name: "x-scaleio-task-id",
              in: "header",
              required: true,
              description: "the id of the Mesos task the token was issued for",
              schema: str,
            },
          ],
          responses: {
            "200": json({ type: "object", additionalProperties: str }, "the secret values"),
            "401": err("missing, unknown, used, expired or misbound token"),
            "429": err("too many refused requests from this address (see Retry-After)"),
          },
        },
      },
      "/v1/artifacts/{version}/scaleio-executor": {
        get: {
          tags: ["executor"],
          summary: "For Mesos fetchers: the self-contained executor of this scheduler's version",
          parameters: [{ name: "version", in: "path", required: true, schema: str }],
          responses: {
            "200": {
              description: "the executor binary",
              content: {
                "application/octet-stream": { schema: { type: "string", format: "binary" } },
              },
            },
            "404": err("other version, or not built"),
          },
        },
      },
      "/v1/events/recent": {
        get: {
          summary: "Recent events, newest last (at most 500)",
          parameters: [{ name: "n", in: "query", schema: { type: "integer", minimum: 0 } }],
          responses: {
            "200": json({
              type: "object",
              required: ["events"],
              properties: { events: { type: "array", items: ref("Event") } },
            }),
            "400": err("bad n"),
            ...readErrors,
          },
        },
      },
    },
  };
}
