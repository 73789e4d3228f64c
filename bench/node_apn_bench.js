// SPDX-License-Identifier: BSD-3-Clause
// node-apn (@parse/node-apn) side of bench/pd_bench: N VoIP pushes over one
// Provider (one HTTP/2 connection) to pd_testsrv, all in flight at once.
// usage: node node_apn_bench.js PORT KEY.p8 KEY_ID TEAM_ID BUNDLE CA.pem N WINDOW
// (at most WINDOW sends in flight, like pd_bench's feeder)
// prints: RESULT <n ok> <seconds> <p50 ms> <p99 ms> <failed>
'use strict';
const fs = require('fs');
const apn = require('@parse/node-apn');

const [port, keyFile, keyId, teamId, bundle, caFile, nArg, wArg] = process.argv.slice(2);
const n = parseInt(nArg, 10);
const windowSize = parseInt(wArg || '1000', 10);

function note(i) {
  const nt = new apn.Notification();
  nt.topic = bundle + '.voip';
  nt.pushType = 'voip';
  nt.priority = 10;
  nt.expiry = Math.floor(Date.now() / 1000) + 30;
  nt.payload = { kind: 'call', call_id: 'call-' + i + '@pbx', caller_number: '+15551230000',
    caller_name: 'Alice', aor: 'sip:bob@example.com' };
  return nt;
}

async function main() {
  const provider = new apn.Provider({
    token: { key: keyFile, keyId, teamId },
    production: false,
    address: '127.0.0.1',
    port: parseInt(port, 10),
    ca: [fs.readFileSync(caFile)],
  });
  await provider.send(note(0), 'aa00'); // connect + TLS before timing
  const lat = new Array(n);
  let failed = 0;
  const t0 = process.hrtime.bigint();
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const s = process.hrtime.bigint();
      const r = await provider.send(note(i), 'ab' + (i % 256).toString(16).padStart(2, '0'));
      lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
      if (r.failed.length) failed++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(windowSize, n) }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const p = q => lat[Math.min(n - 1, Math.floor(q * n))];
  console.log(`RESULT ${n - failed} ${secs.toFixed(3)} ${p(0.5).toFixed(2)} ${p(0.99).toFixed(2)} ${failed}`);
  provider.shutdown();
}

main().catch(e => { console.error(e); process.exit(1); });
