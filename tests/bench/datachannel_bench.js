// Data channel benchmark: our stack (datachannel_bench_ours, C++) next to
// node-datachannel (libdatachannel, the named baseline) in the same run, same workload:
// open time on loopback (create offer -> both ends open, median of RUNS) and one-way
// throughput (MEGABYTES in MESSAGE_SIZE messages, sender at most 4 MiB ahead).
//
// Usage: node datachannel_bench.js PATH_TO_datachannel_bench_ours
//        (env RUNS=10 MEGABYTES=64 MESSAGE_SIZE=65536)
'use strict';

const { execFileSync } = require('child_process');
const nodeDataChannel = require('node-datachannel');

const RUNS = Number(process.env.RUNS || 10);
const MEGABYTES = Number(process.env.MEGABYTES || 64);
const MESSAGE_SIZE = Number(process.env.MESSAGE_SIZE || 65536);
const HIGH_WATER = 4 << 20;

function connectPair() {
  return new Promise((resolve, reject) => {
    const config = { iceServers: [], bindAddress: '127.0.0.1' };
    const offerer = new nodeDataChannel.PeerConnection('offerer', config);
    const answerer = new nodeDataChannel.PeerConnection('answerer', config);
    const loopback = (c) => / 127\.0\.0\.1 \d+ typ /.test(c);
    const timer = setTimeout(() => reject(new Error('connect timed out')), 10000);
    offerer.onLocalDescription((sdp, type) => answerer.setRemoteDescription(sdp, type));
    answerer.onLocalDescription((sdp, type) => offerer.setRemoteDescription(sdp, type));
    offerer.onLocalCandidate((c, mid) => { if (loopback(c)) answerer.addRemoteCandidate(c, mid); });
    answerer.onLocalCandidate((c, mid) => { if (loopback(c)) offerer.addRemoteCandidate(c, mid); });
    let sender = null;
    let receiver = null;
    let senderOpen = false;
    const check = () => {
      if (senderOpen && receiver) {
        clearTimeout(timer);
        resolve({ offerer, answerer, sender, receiver });
      }
    };
    answerer.onDataChannel((channel) => { receiver = channel; check(); });
    sender = offerer.createDataChannel('bench');
    sender.onOpen(() => { senderOpen = true; check(); });
  });
}

async function benchNodeDataChannel() {
  const openMs = [];
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    const pair = await connectPair();
    openMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    pair.offerer.close();
    pair.answerer.close();
  }
  openMs.sort((a, b) => a - b);
  const pair = await connectPair();
  const total = MEGABYTES * (1 << 20);
  const message = Buffer.alloc(MESSAGE_SIZE, 0x5a);
  let cpuSeconds = 0;
  const seconds = await new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const deadline = setTimeout(() => reject(new Error('throughput run timed out')), 60000);
    pair.receiver.onMessage((data) => {
      received += data.length;
      if (received === total) {
        clearTimeout(deadline);
        const cpu = process.cpuUsage(cpuStart);
        cpuSeconds = (cpu.user + cpu.system) / 1e6;
        resolve(Number(process.hrtime.bigint() - start) / 1e9);
      }
    });
    const pump = () => {
      while (sent < total && pair.sender.bufferedAmount() < HIGH_WATER) {
        const size = Math.min(MESSAGE_SIZE, total - sent);
        pair.sender.sendMessageBinary(size === MESSAGE_SIZE ? message : message.subarray(0, size));
        sent += size;
      }
    };
    pair.sender.setBufferedAmountLowThreshold(HIGH_WATER / 4);
    pair.sender.onBufferedAmountLow(pump);
    pump();
  });
  pair.offerer.close();
  pair.answerer.close();
  return {
    stack: 'node-datachannel',
    open_ms_median: openMs[Math.floor(openMs.length / 2)],
    open_ms_min: openMs[0],
    open_ms_max: openMs[openMs.length - 1],
    runs: RUNS,
    bytes: total,
    message_size: MESSAGE_SIZE,
    seconds,
    mb_per_s: total / 1e6 / seconds,
    cpu_seconds: cpuSeconds,
    mb_per_cpu_s: total / 1e6 / cpuSeconds,
  };
}

async function main() {
  const oursBinary = process.argv[2];
  if (!oursBinary) throw new Error('usage: node datachannel_bench.js PATH_TO_datachannel_bench_ours');
  const ours = JSON.parse(execFileSync(oursBinary, [
    `--runs=${RUNS}`, `--megabytes=${MEGABYTES}`, `--message-size=${MESSAGE_SIZE}`,
  ], { encoding: 'utf8', timeout: 180000 }).trim());
  const baseline = await benchNodeDataChannel();
  const row = (name, o, b, unit, digits) =>
    `${name.padEnd(34)} ${o.toFixed(digits).padStart(9)} ${unit.padEnd(5)} ` +
    `${b.toFixed(digits).padStart(9)} ${unit.padEnd(5)} ${(o / b).toFixed(2).padStart(6)}`;
  console.log(`data channel benchmark, loopback, ${RUNS} opens, ${MEGABYTES} MiB in ` +
    `${MESSAGE_SIZE}-byte messages (both peers of a pair in one process)`);
  console.log(`${'figure'.padEnd(34)} ${'ours'.padStart(15)} ${'node-datachannel'.padStart(16)} ${'ratio'.padStart(6)}`);
  console.log(row('open time, median (lower is better)', ours.open_ms_median, baseline.open_ms_median, 'ms', 1));
  console.log(row('throughput (higher is better)', ours.mb_per_s, baseline.mb_per_s, 'MB/s', 1));
  console.log(row('MB per CPU second (higher is better)', ours.mb_per_cpu_s, baseline.mb_per_cpu_s, 'MB', 1));
  console.log(`load average during the run: ${require('os').loadavg()[0].toFixed(1)} ` +
    `on ${require('os').cpus().length} cores (figures are noisy when it exceeds the cores)`);
  console.log(JSON.stringify({ ours, baseline }));
}

main().then(() => {
  nodeDataChannel.cleanup();
  process.exit(0);
}, (error) => {
  console.error(`FAIL ${error.message}`);
  nodeDataChannel.cleanup();
  process.exit(1);
});
