// Interop: our C++ peer (datachannel_peer) against libdatachannel (npm node-datachannel),
// once with each side offering. Signalling is relayed over the peer's stdin/stdout.
// Each side sends the other 1 MiB (in max-message-size chunks) and 1,000 small messages;
// both check byte for byte. Only 127.0.0.1 candidates are used.
//
// Usage: node node_datachannel_interop.js PATH_TO_datachannel_peer
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const nodeDataChannel = require('node-datachannel');
const { makePattern, smallMessage, makeChecker } = require('./pattern');

const BULK = 1 << 20;
const MESSAGES = 1000;
const TIMEOUT_MS = 60000;

function isLoopbackCandidate(candidate) {
  return candidate === '' || / 127\.0\.0\.1 \d+ typ /.test(candidate);
}

function sendLoad(channel, seed) {
  const chunk = channel.maxMessageSize();
  const source = makePattern(seed);
  for (let offset = 0; offset < BULK; offset += chunk) {
    const size = Math.min(chunk, BULK - offset);
    if (!channel.sendMessageBinary(source.fill(Buffer.alloc(size)))) throw new Error('send failed');
  }
  for (let i = 0; i < MESSAGES; i++) channel.sendMessage(smallMessage(i, seed));
  return chunk;
}

function runScenario(peerBinary, oursOffers) {
  const name = oursOffers ? 'ours offers, node-datachannel answers' : 'node-datachannel offers, ours answers';
  const ourSeed = oursOffers ? 11 : 21;
  const theirSeed = oursOffers ? 12 : 22;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const peer = spawn(peerBinary, [
      `--role=${oursOffers ? 'offer' : 'answer'}`, `--seed=${ourSeed}`, `--peer-seed=${theirSeed}`,
      `--bulk=${BULK}`, `--messages=${MESSAGES}`,
    ], { stdio: ['pipe', 'pipe', 'inherit'] });
    const pc = new nodeDataChannel.PeerConnection(oursOffers ? 'answerer' : 'offerer', {
      iceServers: [],
      bindAddress: '127.0.0.1',
    });
    let ourVerified = false;
    let theirVerified = false;
    let openedAt = 0;
    let chunkSize = 0;
    let done = false;
    let remoteDescriptionSet = false;
    const earlyCandidates = [];
    const timer = setTimeout(() => finish(new Error('timed out')), TIMEOUT_MS);
    const toPeer = (object) => { if (!done) peer.stdin.write(JSON.stringify(object) + '\n'); };

    function finish(error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      toPeer.closed = true;
      peer.stdin.end(JSON.stringify({ type: 'close' }) + '\n');
      const killer = setTimeout(() => peer.kill('SIGKILL'), 5000);
      peer.once('exit', (code) => {
        clearTimeout(killer);
        pc.close();
        if (error) reject(new Error(`${name}: ${error.message}`));
        else if (code !== 0) reject(new Error(`${name}: our peer exited with ${code}`));
        else resolve({ name, openMs: openedAt - started, chunkSize });
      });
    }

    const checker = makeChecker(ourSeed, BULK, MESSAGES, (error) => {
      if (error) return finish(error);
      theirVerified = true;
      if (ourVerified) finish(null);
    });
    let sending = false;
    // node-datachannel may or may not call onOpen for a channel the peer opened.
    const startSending = (channel) => {
      if (sending) return;
      sending = true;
      openedAt = Date.now();
      chunkSize = sendLoad(channel, theirSeed);
    };
    const attach = (channel) => {
      channel.onMessage((message) => {
        if (typeof message === 'string') checker.text(message);
        else checker.binary(message);
      });
      channel.onOpen(() => startSending(channel));
      channel.onError((error) => finish(new Error(`channel error ${error}`)));
    };

    pc.onLocalDescription((sdp, type) => toPeer({ type: type.toLowerCase(), sdp }));
    pc.onLocalCandidate((candidate) => {
      const value = candidate.replace(/^a=/, '');
      if (isLoopbackCandidate(value)) toPeer({ type: 'candidate', candidate: value });
    });
    pc.onGatheringStateChange((state) => {
      if (state === 'complete') toPeer({ type: 'candidate', candidate: '' });
    });
    pc.onStateChange((state) => {
      if (state === 'failed') finish(new Error('node-datachannel connection failed'));
    });
    if (oursOffers) {
      pc.onDataChannel((channel) => {
        attach(channel);
        if (channel.isOpen()) startSending(channel);
      });
    } else {
      attach(pc.createDataChannel('interop'));
    }

    readline.createInterface({ input: peer.stdout }).on('line', (line) => {
      let message;
      try { message = JSON.parse(line); } catch (e) { return; }
      switch (message.type) {
        case 'offer':
        case 'answer':
          pc.setRemoteDescription(message.sdp, message.type);
          remoteDescriptionSet = true;
          for (const candidate of earlyCandidates.splice(0)) pc.addRemoteCandidate(candidate, '0');
          break;
        case 'candidate':
          if (message.candidate && isLoopbackCandidate(message.candidate)) {
            if (remoteDescriptionSet) pc.addRemoteCandidate(message.candidate, '0');
            else earlyCandidates.push(message.candidate);
          }
          break;
        case 'verified':
          ourVerified = true;
          if (theirVerified) finish(null);
          break;
        case 'failed':
          finish(new Error(`our peer: ${message.reason}`));
          break;
        default:
          break;
      }
    });
    peer.on('exit', (code) => { if (!done) finish(new Error(`our peer exited early (${code})`)); });
  });
}

async function main() {
  const peerBinary = process.argv[2];
  if (!peerBinary) throw new Error('usage: node node_datachannel_interop.js PATH_TO_datachannel_peer');
  for (const oursOffers of [true, false]) {
    const result = await runScenario(peerBinary, oursOffers);
    console.log(`PASS ${result.name}: open after ${result.openMs} ms, ` +
      `1 MiB in ${result.chunkSize}-byte chunks + ${MESSAGES} messages each way verified`);
  }
}

main().then(() => {
  nodeDataChannel.cleanup();
  process.exit(0);
}, (error) => {
  console.error(`FAIL ${error.message}`);
  nodeDataChannel.cleanup();
  process.exit(1);
});
