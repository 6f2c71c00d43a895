// `events` prints a plan event (a change) as one line: status, counts, the phases that changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatEvent } from "../../../src/cli/operator/format.js";

test("a plan change prints as status, counts and its changed phases", () => {
  const line = formatEvent({
    id: 7,
    type: "plan",
    time: Date.UTC(2026, 0, 1, 12, 0, 0),
    data: {
      id: "deploy",
      name: "Deploy",
      status: "IN_PROGRESS",
      paused: false,
      progress: { complete: 12, total: 301 },
      phases: [
        { id: "packages", status: "COMPLETE", paused: false },
        { id: "servers", status: "WAITING", paused: true },
      ],
    },
  });
  assert.match(
    line,
    /plan {2}deploy IN_PROGRESS 12\/301 \(packages COMPLETE, servers WAITING paused\)$/,
  );
  const quiet = formatEvent({
    id: 8,
    type: "plan",
    time: 0,
    data: {
      id: "deploy",
      name: "Deploy",
      status: "WAITING",
      paused: true,
      progress: { complete: 12, total: 301 },
      phases: [],
    },
  });
  assert.match(quiet, /plan {2}deploy WAITING 12\/301 paused$/);
});
