// Side-by-side benchmark: p2p-signalling vs npm bittorrent-tracker's server, same load
// generator (Node 20 + npm `ws`, several worker processes), loopback only, bounded in time
// and count. Run through signalling_bench.sh (raises the fd limit).
//
//   driver:   node signalling_bench.mjs [--seconds N] [--workers N] [--rounds N] [--idle N]
//             [--load-binary PATH]  (the C++ generator; without it the Node one)
//   internal: --reference-server PORT | --load URL SECONDS ID | --idle-load URL COUNT ID
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.join(here, '../signalling');
const require = createRequire(path.join(testDir, 'package.json'));
const WebSocket = require('ws');

const SWARMS_PER_WORKER = 10;
const PEERS_PER_SWARM = 10;
const OFFERS = 5;
const ANSWER_WAIT_MS = 1000;
const LATENCY_SAMPLES = 20000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const id20 = (text) => text.padEnd(20, '.').slice(0, 20);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error('server exited');
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never listened`);
}

// Seconds of CPU (user + system) the process has used.
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks
}

function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.on('error', () => {});  // after open: a reset at teardown is expected
  });
}

// ---- worker: closed-loop announce-with-offers + answers --------------------------------
async function loadWorker(url, seconds, workerId) {
  const peers = [];
  for (let s = 0; s < SWARMS_PER_WORKER; s++) {
    for (let p = 0; p < PEERS_PER_SWARM; p++) {
      peers.push({
        infoHash: id20(`w${workerId}s${s}`),
        peerId: id20(`w${workerId}s${s}p${p}`),
        ws: await open(url),
      });
    }
  }
  let received = 0;
  let receivedTotal = 0;
  let measuring = false;
  let announces = 0;
  const latencies = [];
  let seen = 0;
  const sample = (ms) => {
    if (!measuring) return;
    seen++;
    if (latencies.length < LATENCY_SAMPLES) latencies.push(ms);
    else {
      const slot = Math.floor(Math.random() * seen);
      if (slot < LATENCY_SAMPLES) latencies[slot] = ms;
    }
  };
  const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;  // ms, fractional
  let running = true;
  for (const peer of peers) {
    peer.pending = 0;
    peer.ws.on('message', (data) => {
      receivedTotal++;
      if (measuring) received++;
      const m = JSON.parse(data);
      if (m.offer) {
        sample(now() - Number(m.offer.sdp));
        peer.ws.send(JSON.stringify({
          action: 'announce', info_hash: peer.infoHash, peer_id: peer.peerId,
          to_peer_id: m.peer_id, offer_id: m.offer_id,
          answer: { type: 'answer', sdp: String(now()) },
        }));
      } else if (m.answer) {
        sample(now() - Number(m.answer.sdp));
        if (--peer.pending === 0) peer.next();
      } else if (m.interval !== undefined) {
        peer.pending += Math.min(m.complete + m.incomplete - 1, OFFERS);
        if (peer.pending <= 0) peer.next();
      }
    });
    peer.round = 0;
    peer.next = () => {
      clearTimeout(peer.timer);
      if (!running) return;
      peer.pending = 1;  // until the reply says how many answers to expect
      const t = String(now());
      const offers = [];
      for (let i = 0; i < OFFERS; i++) {
        offers.push({ offer_id: id20(`o${peer.round}-${i}`), offer: { type: 'offer', sdp: t } });
      }
      peer.round++;
      if (measuring) announces++;
      peer.ws.send(JSON.stringify({
        action: 'announce', info_hash: peer.infoHash, peer_id: peer.peerId, numwant: OFFERS,
        uploaded: 0, downloaded: 0, left: 1, event: peer.round === 1 ? 'started' : undefined,
        offers,
      }));
      peer.pending--;
      // A lost answer must not stall the loop.
      peer.timer = setTimeout(peer.next, ANSWER_WAIT_MS);
    };
  }
  for (const peer of peers) peer.next();
  await sleep(1000);  // warm-up: every peer joined its swarm
  measuring = true;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (Date.now() - t0) / 1000;
  running = false;
  for (const peer of peers) {
    clearTimeout(peer.timer);
    peer.ws.terminate();
  }
  process.stdout.write(JSON.stringify({ received, receivedTotal, announces, elapsed, latencies }));
}

// ---- worker: idle connections (each announced once, no offers) -------------------------
async function idleWorker(url, count, workerId) {
  const sockets = [];
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () => open(url)));
    await Promise.all(opened.map((ws, k) => new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(JSON.stringify({
        action: 'announce', info_hash: id20(`idle-swarm-${(i + k) % 100}`),
        peer_id: id20(`i${workerId}-${i + k}`), numwant: 0, left: 1, event: 'started', offers: [],
      }));
    })));
    sockets.push(...opened);
  }
  process.stdout.write('ready\n');
  // Hold until the driver has measured, then leave.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

// ---- reference server -------------------------------------------------------------------
async function referenceServer(port) {
  const serverPath = path.join(testDir, 'node_modules/bittorrent-tracker/server.js');
  const { default: Server } = await import(pathToFileURL(serverPath).href);
  const server = new Server({ udp: false, http: false, ws: true, stats: false });
  server.on('warning', () => {});
  server.on('error', (err) => {
    console.error(err);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1');
}

// ---- driver ------------------------------------------------------------------------------
function runChild(args, onReady) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (onReady && out.includes('ready\n')) {
        onReady(child);
        onReady = null;
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exit ${code}`))));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// The C++ generator (signalling_bench_load.cc) when built, else the Node one.
function runLoad(url, seconds, worker, loadBinary) {
  if (!loadBinary) return runChild(['--load', url, String(seconds), String(worker)]);
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const child = spawn(loadBinary, [hostname, port, pathname, String(seconds), String(worker)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`generator exit ${code}`))));
  });
}

async function throughput(url, pid, seconds, workers, loadBinary) {
  const cpuBefore = cpuSeconds(pid);
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) => runLoad(url, seconds, w, loadBinary)));
  const cpu = cpuSeconds(pid) - cpuBefore;
  let received = 0;
  let receivedTotal = 0;
  let announces = 0;
  let elapsed = 0;
  const latencies = [];
  for (const text of results) {
    const r = JSON.parse(text);
    received += r.received;
    receivedTotal += r.receivedTotal;
    announces += r.announces;
    elapsed = Math.max(elapsed, r.elapsed);
    latencies.push(...r.latencies);
  }
  latencies.sort((a, b) => a - b);
  return {
    messagesPerSecond: received / elapsed,
    // Server capacity independent of the generator: messages per server CPU-second.
    messagesPerCpuSecond: receivedTotal / cpu,
    cpuSeconds: cpu,
    announcesPerSecond: announces / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function idleMemory(url, pid, total, workers) {
  await sleep(500);
  const before = rssKb(pid);
  const children = [];
  const ready = [];
  const done = [];
  const per = Math.ceil(total / workers);
  for (let w = 0; w < workers; w++) {
    ready.push(new Promise((resolve) => {
      done.push(runChild(['--idle-load', url, String(per), String(w)], (child) => {
        children.push(child);
        resolve();
      }));
    }));
  }
  await Promise.all(ready);
  await sleep(1000);
  const after = rssKb(pid);
  for (const child of children) child.stdin.write('go\n');
  await Promise.all(done);
  return { beforeKb: before, afterKb: after, bytesPerConnection: ((after - before) * 1024) / (per * workers) };
}

async function driver(argv) {
  const option = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const seconds = option('seconds', 4);
  const workers = option('workers', 1);
  const idle = option('idle', 10000);
  const rounds = option('rounds', 3);
  const binaryArg = argv.indexOf('--load-binary');
  const loadBinary = binaryArg >= 0 ? argv[binaryArg + 1] : null;
  const binary = process.env.SIGNALLING_BIN ||
    path.join(here, '../../bazel-bin/signalling/p2p-signalling');

  const ourPort = await freePort();
  const ours = spawn(binary, [
    '--listen', '127.0.0.1', '--port', String(ourPort), '--ticket-secret', 'bench',
    '--max-connections-per-ip', '1000000', '--messages-per-second', '1000000',
    '--message-burst', '1000000', '--max-peers-per-swarm', '1000000',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const refPort = await freePort();
  const reference = spawn(process.execPath, [fileURLToPath(import.meta.url), '--reference-server', String(refPort)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitListening(ourPort, ours);
    await waitListening(refPort, reference);
    const ourUrl = `ws://127.0.0.1:${ourPort}/announce`;
    const refUrl = `ws://127.0.0.1:${refPort}/`;
    console.log(`load: ${workers} ${loadBinary ? 'C++ (lws client, libev)' : 'Node (ws)'} generator processes x ${SWARMS_PER_WORKER * PEERS_PER_SWARM} peers ` +
      `(${SWARMS_PER_WORKER} swarms of ${PEERS_PER_SWARM}), closed loop: announce with ${OFFERS} offers, ` +
      `every offer answered; ${seconds} s measured after 1 s warm-up; median of ${rounds} ` +
      'alternating rounds');
    // Alternating rounds, medians: this host is shared, so one round can be starved.
    const oursRuns = [];
    const refRuns = [];
    for (let round = 0; round < rounds; round++) {
      oursRuns.push(await throughput(ourUrl, ours.pid, seconds, workers, loadBinary));
      refRuns.push(await throughput(refUrl, reference.pid, seconds, workers, loadBinary));
    }
    const median = (runs) => {
      const pick = (key) => {
        const values = runs.map((r) => r[key]).sort((x, y) => x - y);
        return values[Math.floor(values.length / 2)];
      };
      const out = {};
      for (const key of Object.keys(runs[0])) out[key] = pick(key);
      return out;
    };
    const a = median(oursRuns);
    const b = median(refRuns);
    const ma = await idleMemory(ourUrl, ours.pid, idle, workers);
    const mb = await idleMemory(refUrl, reference.pid, idle, workers);
    const row = (name, x, y, unit, digits = 0) =>
      console.log(`${name.padEnd(34)} ${x.toFixed(digits).padStart(12)} ${y.toFixed(digits).padStart(14)}  ` +
        `${(x / y).toFixed(2).padStart(7)}x ${unit}`);
    console.log(`${''.padEnd(34)} ${'p2p-signalling'.padStart(12)} ${'bittorrent-trk'.padStart(14)}  ${'ratio'.padStart(8)}`);
    row('messages/s (server -> clients)', a.messagesPerSecond, b.messagesPerSecond, '');
    row('messages per server CPU-second', a.messagesPerCpuSecond, b.messagesPerCpuSecond, '');
    row('announces/s (with 5 offers)', a.announcesPerSecond, b.announcesPerSecond, '');
    row('relay latency p50', a.p50, b.p50, 'ms', 2);
    row('relay latency p99', a.p99, b.p99, 'ms', 2);
    row(`memory per idle conn (${idle})`, ma.bytesPerConnection, mb.bytesPerConnection, 'bytes');
    console.log(`RSS before/after idle connections: ours ${ma.beforeKb}/${ma.afterKb} KB, ` +
      `bittorrent-tracker ${mb.beforeKb}/${mb.afterKb} KB`);
    console.log(`server CPU per round (median): ours ${a.cpuSeconds.toFixed(2)} s, ` +
      `bittorrent-tracker ${b.cpuSeconds.toFixed(2)} s; load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`goals: messages/s ratio >= 5 -> wall ${(a.messagesPerSecond / b.messagesPerSecond).toFixed(2)}, ` +
      `per CPU-second ${(a.messagesPerCpuSecond / b.messagesPerCpuSecond).toFixed(2)}; ` +
      `<= 4096 B per idle connection -> ${ma.bytesPerConnection.toFixed(0)} B`);
  } finally {
    ours.kill('SIGTERM');
    reference.kill('SIGTERM');
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--reference-server') await referenceServer(Number(argv[1]));
else if (argv[0] === '--load') await loadWorker(argv[1], Number(argv[2]), argv[3]);
else if (argv[0] === '--idle-load') await idleWorker(argv[1], Number(argv[2]), argv[3]);
else await driver(argv);
