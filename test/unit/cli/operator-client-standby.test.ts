// The CLI told that an answer came from a standby's copy of the leader's views: one note on
// stderr (how old the copy is, where the leader is), never on stdout with the answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { ApiClient } from "../../../src/cli/operator/client.js";

async function serve(headers: Record<string, string>): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ plans: [] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

test("a standby's copy is noted once, with its age and the leader's URL", async () => {
  const { url, server } = await serve({
    "x-served-by": "standby",
    "x-view-age-ms": "2345",
    "x-leader": "http://10.0.0.7:35000",
  });
  const notes: string[] = [];
  try {
    const client = new ApiClient({ api: url }, {}, (t) => notes.push(t));
    assert.deepEqual(await client.get("/v1/plans"), { plans: [] });
    await client.get("/v1/plans");
    assert.deepEqual(notes, [
      "note: answered by a standby scheduler from the leader's published views, 2.3 s old; the leader is at http://10.0.0.7:35000 (changes go there: --api http://10.0.0.7:35000)\n",
    ]);
  } finally {
    server.close();
  }
});

test("the leader's own answers carry no note", async () => {
  const { url, server } = await serve({});
  const notes: string[] = [];
  try {
    await new ApiClient({ api: url }, {}, (t) => notes.push(t)).get("/v1/plans");
    assert.deepEqual(notes, []);
  } finally {
    server.close();
  }
});
