// What write coalescing costs in latency: open-loop native relays at fixed rates, p2p-signalling
// with write_coalesce_us 2000 (the default) against the same daemon with 0 (a write after every
// loop pass), alternating rounds. Bounded: 20 peers on loopback, `--seconds` per run.
//   bazel build -c opt //signalling:p2p-signalling && tests/signalling/setup.sh
//   SIGNALLING_BIN=bazel-bin/signalling/p2p-signalling node tests/bench/signalling_coalesce_latency.mjs \
//     [--seconds 4] [--rounds 2] [--rates 1000,5000,20000]
// The sender is one Node process that sends rate/1000 offers every millisecond (so messages
// arrive in small bursts, as from many viewers); "achieved" is what it managed to send.
import { Peer, signTicket, sleep, startDaemon } from '../signalling/lib.mjs';

const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(option('seconds', 4));
const rounds = Number(option('rounds', 2));
const rates = String(option('rates', '1000,5000,20000')).split(',').map(Number);
const kPeers = 20;

async function run(coalesceUs, rate) {
  const daemon = await startDaemon({
    'ticket-secret': 'bench',
    'messages-per-second': 1000000,
    'message-burst': 1000000,
    'max-connections-per-ip': 1000,
    'write-coalesce-us': coalesceUs,
  });
  const peers = [];
  const latencies = [];
  try {
    for (let i = 0; i < kPeers; i++) {
      const peer = new Peer(`${daemon.url}/v1/signal?ticket=${signTicket('bench', `p${i}`, 'bench')}`);
      await peer.next();  // welcome
      peer.ws.on('message', (data) => {
        const m = JSON.parse(data);
        if (m.type === 'offer') latencies.push(performance.now() - Number(m.sdp));
      });
      peers.push(peer);
    }
    const perTick = Math.max(1, Math.round(rate / 1000));
    const end = performance.now() + seconds * 1000;
    let sent = 0;
    while (performance.now() < end) {
      const tick = performance.now();
      for (let k = 0; k < perTick; k++, sent++) {
        peers[sent % kPeers].send({ type: 'offer', to: `p${(sent + 7) % kPeers}`, sdp: String(performance.now()) });
      }
      const wait = 1 - (performance.now() - tick);
      if (wait > 0) await sleep(wait);
    }
    const drainEnd = performance.now() + 2000;
    while (latencies.length < sent && performance.now() < drainEnd) await sleep(20);
    const holds = Number(/signalling_write_holds_total (\d+)/.exec(await daemon.metrics())[1]);
    latencies.sort((a, b) => a - b);
    const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { achieved: sent / seconds, lost: sent - latencies.length, p50: at(0.5), p99: at(0.99), holds };
  } finally {
    for (const peer of peers) peer.close();
    await daemon.stop();
  }
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`open loop, ${kPeers} native peers, ${seconds} s per run, median of ${rounds} alternating rounds`);
console.log('rate (asked/achieved)   coalescing 2000 us: p50 / p99 ms, holds   off (0): p50 / p99 ms   p50 ratio');
let failed = false;
for (const rate of rates) {
  const on = [];
  const off = [];
  for (let r = 0; r < rounds; r++) {
    on.push(await run(2000, rate));
    off.push(await run(0, rate));
  }
  for (const result of [...on, ...off]) if (result.lost > 0) failed = true;
  const pick = (runs, key) => median(runs.map((x) => x[key]));
  const line = `${String(rate).padStart(6)} / ${pick(on, 'achieved').toFixed(0).padStart(6)}` +
    `          ${pick(on, 'p50').toFixed(2).padStart(6)} / ${pick(on, 'p99').toFixed(2).padStart(6)}, ${String(pick(on, 'holds')).padStart(5)}` +
    `          ${pick(off, 'p50').toFixed(2).padStart(6)} / ${pick(off, 'p99').toFixed(2).padStart(6)}` +
    `       ${(pick(on, 'p50') / pick(off, 'p50')).toFixed(2)}x`;
  console.log(line);
}
if (failed) {
  console.log('FAILED: some relayed messages never arrived');
  process.exit(1);
}
process.exit(0);
