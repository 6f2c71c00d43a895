// Who takes part in a state's leader election, read without joining it: the state verbs
// use it to refuse writes under running schedulers (a directory store is locked for the same
// reason), and it names the leader to send the operator to.
import type { ZkStateStore } from "../store/zk-store.js";
import { ZK, zkCode } from "../store/zk-connection.js";
import { ELECTION, SEQ, type CandidateInfo } from "./elector.js";

/** The candidates in order of their sequence (the first leads, or is about to). */
export async function electionMembers(store: ZkStateStore): Promise<CandidateInfo[]> {
  const dir = `${store.root}/${ELECTION}`;
  let names: string[];
  try {
    names = await store.connection.run<string[]>(
      `listing ${dir}`,
      (c, cb) => c.getChildren(dir, (err, children) => cb(err, children)),
      { idempotent: true },
    );
  } catch (err) {
    if (zkCode(err) === ZK.NO_NODE) return []; // no scheduler ever ran on this state
    throw err;
  }
  const ordered = names
    .filter((n) => SEQ.test(n))
    .sort((a, b) => Number(SEQ.exec(a)![1]) - Number(SEQ.exec(b)![1]));
  const members: CandidateInfo[] = [];
  for (const name of ordered) {
    try {
      const data = await store.connection.run<Buffer>(
        `reading ${dir}/${name}`,
        (c, cb) => c.getData(`${dir}/${name}`, (err, d) => cb(err, d)),
        { idempotent: true },
      );
      members.push(JSON.parse(data.toString("utf8")) as CandidateInfo);
    } catch (err) {
      if (zkCode(err) === ZK.NO_NODE) continue; // it left meanwhile
      throw err;
    }
  }
  return members;
}
