// The gateway's self-signed certificate, generated at start. The certificate is its own CA;
// it is written to a file so clients can trust it instead of running "insecure".
import { writeFile } from "node:fs/promises";
import { generate } from "selfsigned";

export interface GatewayCert {
  key: string;
  cert: string;
}

export async function makeCert(host: string): Promise<GatewayCert> {
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: "localhost" },
    { type: 7, ip: "127.0.0.1" },
  ];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== "127.0.0.1")
    altNames.push({ type: 7, ip: host });
  else if (host !== "localhost" && !/^\d/.test(host)) altNames.push({ type: 2, value: host });
  const pems = await generate([{ name: "commonName", value: host }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export async function writeCa(path: string, cert: GatewayCert): Promise<void> {
  await writeFile(path, cert.cert, { mode: 0o644 });
}
