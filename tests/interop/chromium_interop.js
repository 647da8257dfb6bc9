// Interop: our C++ peer (datachannel_peer) against headless Chromium (Debian's
// /usr/bin/chromium driven by npm playwright-core), once with each side offering.
// Signalling: with --signalling=PATH_TO_p2p-signalling, through the project's signalling
// daemon: the page opens its own WebSocket with its own ticket, and our peer's
// stdin/stdout is bridged onto another. Without it, this script relays between our
// peer's stdin/stdout and the page (exposeFunction / evaluate). Each side sends 1 MiB (in max-message-size
// chunks) and 1,000 small messages; both check byte for byte.
//
// Network hygiene: Chromium gathers host candidates only with camera/microphone
// permission and --allow-loopback-in-peer-connection; the page forwards only
// 127.0.0.1 UDP candidates and our peer gathers only on 127.0.0.1, so no traffic leaves
// 127.0.0.0/8. Each run uses a fresh profile and HOME under the test's temp dir, and
// kills (by PID) any Chromium process left holding that profile.
//
// Usage: node chromium_interop.js PATH_TO_datachannel_peer [--signalling=PATH]
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');
const { makePattern, smallMessage, makeChecker } = require('./pattern');
const { startSignalling, connectSignalling, peerLineToSignal, signalToPeerLine } = require('./signalling_relay');

const BULK = 1 << 20;
const MESSAGES = 1000;
const TIMEOUT_MS = 60000;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DEBUG = !!process.env.INTEROP_DEBUG;
const debug = (...args) => { if (DEBUG) console.error(new Date().toISOString(), ...args); };

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns', '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

// Runs in the page: the same pattern and checker as pattern.js, plus the peer.
const PAGE_SCRIPT = `
${makePattern.toString()}
${smallMessage.toString()}
${makeChecker.toString()}
// Signalling out of the page: to the test script (exposed toPeer), or, when 'signal'
// is given, over the page's own WebSocket to the signalling daemon.
window.connectSignalling = (signal) => new Promise((resolve, reject) => {
  const ws = new WebSocket(signal.url + '?ticket=' + signal.ticket);
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'welcome') {
      window.toPeer = (m) => {
        if (m.type === 'candidate' && !m.candidate) return;  // no end-of-candidates in the protocol
        const out = { type: m.type, to: signal.remote, session: signal.session };
        if (m.sdp) out.sdp = m.sdp;
        if (m.type === 'candidate') { out.candidate = m.candidate; out.sdp_mid = '0'; out.sdp_mline_index = 0; }
        ws.send(JSON.stringify(out));
      };
      resolve();
    } else if (message.type === 'error') {
      window.report({ error: 'signalling: ' + message.code });
      reject(new Error(message.code));
    } else if (message.from === signal.remote) {
      if (message.type === 'offer' || message.type === 'answer') window.setRemote({ type: message.type, sdp: message.sdp });
      else if (message.type === 'candidate') window.addCandidate(message.candidate);
    }
  };
  ws.onerror = () => reject(new Error('signalling socket error'));
});
window.startPeer = (offer, ourSeed, theirSeed, bulk, messages) => {
  const started = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.pc = pc;
  const loopback = (c) => / 127\\.0\\.0\\.1 \\d+ typ /.test(c) && / udp /i.test(c);
  pc.onicecandidate = (event) => {
    if (!event.candidate) window.toPeer({ type: 'candidate', candidate: '' });
    else if (loopback(event.candidate.candidate)) window.toPeer({ type: 'candidate', candidate: event.candidate.candidate });
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') window.report({ error: 'chromium connection failed' });
  };
  const checker = makeChecker(ourSeed, bulk, messages, (error) => {
    window.report(error ? { error: error.message } : { verified: true });
  });
  const attach = (channel) => {
    channel.binaryType = 'arraybuffer';
    channel.onmessage = (event) => {
      if (typeof event.data === 'string') checker.text(event.data);
      else checker.binary(event.data);
    };
    channel.onopen = () => {
      const openMs = Math.round(performance.now() - started);
      const chunk = pc.sctp.maxMessageSize;
      const source = makePattern(theirSeed);
      for (let offset = 0; offset < bulk; offset += chunk) {
        channel.send(source.fill(new Uint8Array(Math.min(chunk, bulk - offset))));
      }
      for (let i = 0; i < messages; i++) channel.send(smallMessage(i, theirSeed));
      window.report({ opened: true, chunk, openMs });
    };
  };
  window.remoteCandidates = [];
  window.addCandidate = async (candidate) => {
    if (!pc.remoteDescription) { window.remoteCandidates.push(candidate); return; }
    await pc.addIceCandidate(candidate ? { candidate, sdpMid: '0' } : null);
  };
  window.setRemote = async (description) => {
    await pc.setRemoteDescription(description);
    for (const c of window.remoteCandidates.splice(0)) await window.addCandidate(c);
    if (description.type === 'offer') {
      await pc.setLocalDescription(await pc.createAnswer());
      window.toPeer({ type: 'answer', sdp: pc.localDescription.sdp });
    }
  };
  if (offer) {
    attach(pc.createDataChannel('interop'));
    pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => {
      window.toPeer({ type: 'offer', sdp: pc.localDescription.sdp });
    });
  } else {
    pc.ondatachannel = (event) => attach(event.channel);
  }
};
`;

function killLeftovers(profileDir) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8'); } catch (e) { continue; }
    if (cmdline.includes(profileDir)) {
      try { process.kill(Number(entry), 'SIGKILL'); } catch (e) { /* already gone */ }
    }
  }
}

async function runScenario(context, origin, peerBinary, oursOffers, signalling) {
  const name = `${oursOffers ? 'ours offers, Chromium answers' : 'Chromium offers, ours answers'}` +
    `${signalling ? ' (via p2p-signalling)' : ''}`;
  const session = `s${Date.now()}`;
  let ourSocket = null;
  let failure = null;
  const ourSeed = oursOffers ? 31 : 41;
  const theirSeed = oursOffers ? 32 : 42;
  const page = await context.newPage();
  let chunkSize = 0;
  let openMs = 0;
  const peer = spawn(peerBinary, [
    `--role=${oursOffers ? 'offer' : 'answer'}`, `--seed=${ourSeed}`, `--peer-seed=${theirSeed}`,
    `--bulk=${BULK}`, `--messages=${MESSAGES}`,
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise(async (resolve, reject) => {
      let ourVerified = false;
      let theirVerified = false;
      const timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS);
      const settle = (error) => {
        clearTimeout(timer);
        if (error) reject(error); else resolve();
      };
      const toPage = (fn, arg) => page.evaluate(fn, arg).catch((e) => settle(e));
      await page.exposeFunction('toPeer', (message) => {
        debug('chromium:', JSON.stringify(message).slice(0, 300));
        peer.stdin.write(JSON.stringify(message) + '\n');
      });
      // Our peer's signalling: straight into the page, or onto its daemon socket.
      let toBrowser = (message) => {
        if (message.type === 'offer' || message.type === 'answer') {
          toPage((d) => window.setRemote(d), { type: message.type, sdp: message.sdp });
        } else if (message.type === 'candidate') {
          toPage((c) => window.addCandidate(c), message.candidate);
        }
      };
      if (signalling) {
        ourSocket = await connectSignalling(signalling, 'ours', (message) => {
          const line = message.from === 'browser' ? signalToPeerLine(message) : null;
          if (line) peer.stdin.write(JSON.stringify(line) + '\n');
        }, settle);
        toBrowser = (message) => {
          const signal = peerLineToSignal(message, 'browser', session);
          if (signal) ourSocket.send(signal);
        };
      }
      await page.exposeFunction('report', (result) => {
        if (result.error) settle(new Error(`chromium: ${result.error}`));
        if (result.opened) { chunkSize = result.chunk; openMs = result.openMs; }
        if (result.verified) { theirVerified = true; if (ourVerified) settle(null); }
      });
      await page.goto(`${origin}/`);
      await page.addScriptTag({ content: PAGE_SCRIPT });
      page.on('console', (m) => debug('page:', m.text()));
      // The page must be in the swarm before our peer's offer is relayed to it (the
      // daemon refuses messages to peers it does not know); our peer's output waits in
      // its pipe until the reader below is attached.
      if (signalling) {
        await toPage((signal) => window.connectSignalling(signal), {
          url: signalling.url, ticket: signalling.ticket('browser'), remote: 'ours', session,
        });
      }
      // The page's peer exists before anything of ours reaches it.
      await toPage(([offer, a, b, bulk, messages]) => window.startPeer(offer, a, b, bulk, messages),
        [!oursOffers, ourSeed, theirSeed, BULK, MESSAGES]);
      readline.createInterface({ input: peer.stdout }).on('line', (line) => {
        debug('ours:', line.slice(0, 300));
        let message;
        try { message = JSON.parse(line); } catch (e) { return; }
        if (message.type === 'verified') {
          ourVerified = true;
          if (theirVerified) settle(null);
        } else if (message.type === 'failed') {
          settle(new Error(`our peer: ${message.reason}`));
        } else {
          toBrowser(message);
        }
      });
      peer.on('exit', (code) => settle(new Error(`our peer exited early (${code})`)));
    });
  } catch (error) {
    failure = new Error(`${name}: ${error.message}`);
  } finally {
    peer.removeAllListeners('exit');
    const exited = new Promise((resolve) => peer.once('exit', resolve));
    if (peer.exitCode === null) peer.stdin.end(JSON.stringify({ type: 'close' }) + '\n');
    const killer = setTimeout(() => peer.kill('SIGKILL'), 5000);
    const code = peer.exitCode !== null ? peer.exitCode : await exited;
    clearTimeout(killer);
    await page.close();
    if (ourSocket) ourSocket.close();
    if (!failure && code !== 0) failure = new Error(`${name}: our peer exited with ${code}`);
  }
  if (failure) throw failure;
  return { name, openMs, chunkSize };
}

async function main() {
  const args = process.argv.slice(2);
  const peerBinary = path.resolve(args.find((a) => !a.startsWith('--')) || '');
  const daemonArg = args.find((a) => a.startsWith('--signalling='));
  const base = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'chromium-'));
  const profileDir = path.join(base, 'profile');
  const home = path.join(base, 'home');
  fs.mkdirSync(home);
  // A secure-context origin on loopback for the page (camera/microphone permission).
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>interop</title>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  let context;
  let failed = null;
  let signalling = null;
  try {
    if (daemonArg) signalling = await startSignalling(path.resolve(daemonArg.split('=')[1]), base);
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') },
      timeout: 30000,
    });
    await context.grantPermissions(['camera', 'microphone'], { origin });
    for (const oursOffers of [true, false]) {
      const result = await runScenario(context, origin, peerBinary, oursOffers, signalling);
      console.log(`PASS ${result.name}: open ${result.openMs} ms after the page created its peer, ` +
        `1 MiB in ${result.chunkSize}-byte chunks + ${MESSAGES} messages each way verified`);
    }
  } catch (error) {
    failed = error;
  } finally {
    if (context) await context.close().catch(() => {});
    server.close();
    if (signalling) await signalling.stop();
    killLeftovers(profileDir);
    fs.rmSync(base, { recursive: true, force: true });
  }
  if (failed) throw failed;
}

main().then(() => process.exit(0), (error) => {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
});
