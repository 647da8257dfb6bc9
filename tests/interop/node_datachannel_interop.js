// Interop: our C++ peer (datachannel_peer) against libdatachannel (npm node-datachannel),
// once with each side offering. Each side sends the other 1 MiB (in max-message-size
// chunks) and 1,000 small messages; both check byte for byte. Only 127.0.0.1
// candidates are used.
//
// Signalling: with --signalling=PATH_TO_p2p-signalling, through the project's signalling
// daemon (each peer has its own ticket and WebSocket; our peer's stdin/stdout is bridged
// onto its socket). Without it, the script relays our peer's stdin/stdout directly.
//
// Usage: node node_datachannel_interop.js PATH_TO_datachannel_peer [--signalling=PATH]
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const nodeDataChannel = require('node-datachannel');
const { makePattern, smallMessage, makeChecker } = require('./pattern');
const { startSignalling, connectSignalling, peerLineToSignal, signalToPeerLine } = require('./signalling_relay');

const BULK = 1 << 20;
const MESSAGES = 1000;
const TIMEOUT_MS = 60000;

function isLoopbackCandidate(candidate) {
  return / 127\.0\.0\.1 \d+ typ /.test(candidate);
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

async function runScenario(peerBinary, oursOffers, signalling) {
  const name = `${oursOffers ? 'ours offers, node-datachannel answers' : 'node-datachannel offers, ours answers'}` +
    `${signalling ? ' (via p2p-signalling)' : ''}`;
  const ourSeed = oursOffers ? 11 : 21;
  const theirSeed = oursOffers ? 12 : 22;
  const session = `s${Date.now()}`;
  const started = Date.now();
  const peer = spawn(peerBinary, [
    `--role=${oursOffers ? 'offer' : 'answer'}`, `--seed=${ourSeed}`, `--peer-seed=${theirSeed}`,
    `--bulk=${BULK}`, `--messages=${MESSAGES}`,
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pc = new nodeDataChannel.PeerConnection(oursOffers ? 'answerer' : 'offerer', {
    iceServers: [],
    bindAddress: '127.0.0.1',
  });
  let ourSocket = null;
  let theirSocket = null;
  let openedAt = 0;
  let chunkSize = 0;
  let done = false;
  try {
    await new Promise(async (resolve, reject) => {
      let ourVerified = false;
      let theirVerified = false;
      let remoteDescriptionSet = false;
      const earlyCandidates = [];
      const timer = setTimeout(() => settle(new Error('timed out')), TIMEOUT_MS);
      function settle(error) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) reject(error); else resolve();
      }
      const toOurPeer = (line) => { if (!done) peer.stdin.write(JSON.stringify(line) + '\n'); };
      // A signalling message from our peer (datachannel_peer line form) for node-datachannel.
      const fromOurPeer = (message) => {
        if (message.type === 'offer' || message.type === 'answer') {
          pc.setRemoteDescription(message.sdp, message.type);
          remoteDescriptionSet = true;
          for (const c of earlyCandidates.splice(0)) pc.addRemoteCandidate(c, '0');
        } else if (message.type === 'candidate' && message.candidate && isLoopbackCandidate(message.candidate)) {
          if (remoteDescriptionSet) pc.addRemoteCandidate(message.candidate, '0');
          else earlyCandidates.push(message.candidate);
        }
      };
      let toTheirSide = fromOurPeer;  // where our peer's signalling goes
      let toOurSide = toOurPeer;      // where node-datachannel's signalling goes
      if (signalling) {
        ourSocket = await connectSignalling(signalling, 'ours', (message) => {
          const line = message.from === 'theirs' ? signalToPeerLine(message) : null;
          if (line) toOurPeer(line);
        }, settle);
        theirSocket = await connectSignalling(signalling, 'theirs', (message) => {
          const line = message.from === 'ours' ? signalToPeerLine(message) : null;
          if (line) fromOurPeer(line);
        }, settle);
        toTheirSide = (line) => {
          const signal = peerLineToSignal(line, 'theirs', session);
          if (signal) ourSocket.send(signal);
        };
        toOurSide = (line) => {
          const signal = peerLineToSignal(line, 'ours', session);
          if (signal) theirSocket.send(signal);
        };
      }

      const checker = makeChecker(ourSeed, BULK, MESSAGES, (error) => {
        if (error) return settle(error);
        theirVerified = true;
        if (ourVerified) settle(null);
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
        channel.onError((error) => settle(new Error(`channel error ${error}`)));
      };
      pc.onLocalDescription((sdp, type) => toOurSide({ type: type.toLowerCase(), sdp }));
      pc.onLocalCandidate((candidate) => {
        const value = candidate.replace(/^a=/, '');
        if (isLoopbackCandidate(value)) toOurSide({ type: 'candidate', candidate: value });
      });
      pc.onStateChange((state) => {
        if (state === 'failed') settle(new Error('node-datachannel connection failed'));
      });

      readline.createInterface({ input: peer.stdout }).on('line', (line) => {
        let message;
        try { message = JSON.parse(line); } catch (e) { return; }
        if (message.type === 'verified') {
          ourVerified = true;
          if (theirVerified) settle(null);
        } else if (message.type === 'failed') {
          settle(new Error(`our peer: ${message.reason}`));
        } else {
          toTheirSide(message);
        }
      });
      peer.on('exit', (code) => settle(new Error(`our peer exited early (${code})`)));

      if (oursOffers) {
        pc.onDataChannel((channel) => {
          attach(channel);
          if (channel.isOpen()) startSending(channel);
        });
      } else {
        attach(pc.createDataChannel('interop'));
      }
    });
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  } finally {
    done = true;
    peer.removeAllListeners('exit');
    const exited = new Promise((resolve) => peer.once('exit', resolve));
    if (peer.exitCode === null) peer.stdin.end(JSON.stringify({ type: 'close' }) + '\n');
    const killer = setTimeout(() => peer.kill('SIGKILL'), 5000);
    const code = peer.exitCode !== null ? peer.exitCode : await exited;
    clearTimeout(killer);
    pc.close();
    if (ourSocket) ourSocket.close();
    if (theirSocket) theirSocket.close();
    if (code !== 0) throw new Error(`${name}: our peer exited with ${code}`);
  }
  return { name, openMs: openedAt - started, chunkSize };
}

async function main() {
  const args = process.argv.slice(2);
  const peerBinary = args.find((a) => !a.startsWith('--'));
  const daemonArg = args.find((a) => a.startsWith('--signalling='));
  if (!peerBinary) throw new Error('usage: node node_datachannel_interop.js PATH_TO_datachannel_peer [--signalling=PATH]');
  let signalling = null;
  const workDir = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'ndc-'));
  try {
    if (daemonArg) signalling = await startSignalling(path.resolve(daemonArg.split('=')[1]), workDir);
    for (const oursOffers of [true, false]) {
      const result = await runScenario(path.resolve(peerBinary), oursOffers, signalling);
      console.log(`PASS ${result.name}: open after ${result.openMs} ms, ` +
        `1 MiB in ${result.chunkSize}-byte chunks + ${MESSAGES} messages each way verified`);
    }
  } finally {
    if (signalling) await signalling.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
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
