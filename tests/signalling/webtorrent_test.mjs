// WebTorrent tracker protocol: npm bittorrent-tracker's own client meets through our
// daemon, and a wire transcript is compared message for message with npm
// bittorrent-tracker's server (run side by side) so the script itself is shown faithful.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { register } from 'node:module';
import { after, before, test } from 'node:test';
import { Peer, freePort, sleep, startDaemon } from './lib.mjs';

// bittorrent-tracker's simple-peer imports `webrtc-polyfill`; give it the fake.
register('./fake_webrtc_loader.mjs', import.meta.url);
const { default: Client } = await import('bittorrent-tracker/client');
const { default: Server } = await import('bittorrent-tracker/server');
const { descriptions } = await import('./fake_webrtc.mjs');

let daemon;
let reference;
let referenceUrl;

before(async () => {
  daemon = await startDaemon({ 'ticket-secret': 'unused-here' });
  reference = new Server({ udp: false, http: false, ws: true, stats: false });
  reference.on('error', (err) => {
    throw err;
  });
  reference.on('warning', () => {});
  const port = await freePort();
  await new Promise((resolve) => reference.listen(port, '127.0.0.1', resolve));
  referenceUrl = `ws://127.0.0.1:${port}`;
});

after(async () => {
  await new Promise((resolve) => reference.close(resolve));
  await daemon.stop();
});

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, sleep(ms).then(() => { throw new Error(`timeout: ${what}`); })]);

// Two bittorrent-tracker clients: A joins, then B announces with offers; A must get B's
// offer and B must get A's answer.
async function clientsMeet(url) {
  const infoHash = randomBytes(20).toString('hex');
  const idA = randomBytes(20).toString('hex');
  const idB = randomBytes(20).toString('hex');
  const a = new Client({ infoHash, peerId: idA, announce: [url], port: 6881 });
  const b = new Client({ infoHash, peerId: idB, announce: [url], port: 6882 });
  const warnings = [];
  for (const c of [a, b]) {
    c.on('error', (err) => warnings.push(`error ${err.message}`));
    c.on('warning', (err) => warnings.push(`warning ${err.message}`));
  }
  const firstUpdate = new Promise((resolve) => a.once('update', resolve));
  const aPeer = new Promise((resolve) => a.once('peer', resolve));
  const bPeer = new Promise((resolve) => b.once('peer', resolve));
  try {
    a.start();
    const update = await withTimeout(firstUpdate, 5000, 'first announce reply');
    assert.equal(update.infoHash, infoHash);
    assert.equal(update.incomplete, 1);
    b.start();
    const [fromB, fromA] = await withTimeout(Promise.all([aPeer, bPeer]), 8000, 'offer/answer');
    assert.equal(fromB.id, idB, 'A met B through B\'s offer');
    assert.equal(fromA.id, idA, 'B met A through A\'s answer');
    // The SDP each side applied is one the other side produced.
    const local = new Set(descriptions.filter((d) => d.side === 'local').map((d) => d.sdp));
    const remote = descriptions.filter((d) => d.side === 'remote');
    assert.ok(remote.some((d) => d.type === 'offer' && local.has(d.sdp)), 'offer relayed intact');
    assert.ok(remote.some((d) => d.type === 'answer' && local.has(d.sdp)), 'answer relayed intact');
    assert.deepEqual(warnings, []);
  } finally {
    a.destroy();
    b.destroy();
  }
}

test('bittorrent-tracker clients exchange offer and answer through our daemon', async () => {
  await clientsMeet(`${daemon.url}/announce`);
});

test('the same clients meet through npm bittorrent-tracker server (reference)', async () => {
  await clientsMeet(referenceUrl);
});

// JavaScript "binary strings": 20 characters U+0000..U+00FF.
const bin = (prefix) => `${prefix}\u0000\u00e9\u00ff`.padEnd(20, '\u0080').slice(0, 20);

// One scripted session; returns every message each socket received, in order.
async function transcript(url) {
  const ih = bin('ih-');
  const p1 = bin('peer1-');
  const p2 = bin('peer2-');
  const s1 = new Peer(url);
  const s2 = new Peer(url);
  await Promise.all([s1.opened, s2.opened]);
  const log = [];
  const step = async (socket, message, expectReplies) => {
    socket.send(message);
    for (let i = 0; i < expectReplies; i++) log.push(await socket.next());
  };
  await step(s1, { action: 'announce', info_hash: ih, peer_id: p1, numwant: 5, event: 'started', left: 100, offers: [] }, 1);
  await step(s2, {
    action: 'announce', info_hash: ih, peer_id: p2, numwant: 2, event: 'started', left: 0,
    offers: [
      { offer_id: bin('offer-a'), offer: { type: 'offer', sdp: 'sdp-a' } },
      { offer_id: bin('offer-b'), offer: { type: 'offer', sdp: 'sdp-b' } },
    ],
  }, 1);
  log.push(await s1.next()); // the offer fanned out to the only other peer
  s1.send({ action: 'announce', info_hash: ih, peer_id: p1, to_peer_id: p2, offer_id: log.at(-1).offer_id, answer: { type: 'answer', sdp: 'sdp-answer' } });
  log.push(await s2.next()); // the relayed answer
  log.push({ answerer_got_nothing: await s1.silentFor(200) });
  await step(s1, { action: 'scrape', info_hash: ih }, 1);
  await step(s1, { action: 'scrape', info_hash: [ih, bin('nobody')] }, 1);
  await step(s1, { action: 'announce', info_hash: 'short', peer_id: p1 }, 1);
  await step(s1, { action: 'announce', info_hash: ih, peer_id: 'x' }, 1);
  await step(s1, { action: 'announce', info_hash: ih, peer_id: p1, answer: { type: 'answer' } }, 1);
  await step(s1, { action: 'announce', info_hash: ih, peer_id: p1, event: 'bogus' }, 1);
  await step(s1, { action: 'teleport' }, 1);
  await step(s1, { action: 'scrape', info_hash: [ih, 'short'] }, 1);
  await step(s2, { action: 'announce', info_hash: ih, peer_id: p2, event: 'completed', left: 0 }, 1);
  await step(s1, { action: 'announce', info_hash: ih, peer_id: p1, event: 'stopped' }, 1);
  await step(s2, { action: 'scrape', info_hash: ih }, 1);
  // Closing the socket leaves the swarm.
  s2.close();
  await s2.closed;
  await sleep(100);
  const s3 = new Peer(url);
  await s3.opened;
  await step(s3, { action: 'scrape', info_hash: ih }, 1);
  s1.close();
  s3.close();
  return log;
}

test('wire transcript matches npm bittorrent-tracker server message for message', async () => {
  const ours = await transcript(`${daemon.url}/announce`);
  const theirs = await transcript(referenceUrl);
  if (process.env.SHOW_TRANSCRIPT) for (const m of ours) console.log(JSON.stringify(m));
  assert.equal(ours.length, theirs.length);
  for (let i = 0; i < ours.length; i++) assert.deepEqual(ours[i], theirs[i], `message ${i}`);
  // The binary ids survived as the same 20 characters.
  assert.equal(ours[0].info_hash, bin('ih-'));
  assert.equal(ours[0].interval, 120);
  assert.equal(ours[2].peer_id, bin('peer2-'));
});

test('offers fan out to at most numwant peers from a random position', async () => {
  const ih = bin('fanout-');
  const peers = [];
  for (let i = 0; i < 6; i++) {
    const s = new Peer(`${daemon.url}/announce`);
    await s.opened;
    s.send({ action: 'announce', info_hash: ih, peer_id: bin(`fan${i}-`), numwant: 0, offers: [] });
    await s.next();
    peers.push(s);
  }
  const counts = new Array(6).fill(0);
  for (let round = 0; round < 12; round++) {
    const offers = [0, 1, 2].map((n) => ({ offer_id: bin(`o${round}-${n}-`), offer: { type: 'offer', sdp: `s${n}` } }));
    peers[0].send({ action: 'announce', info_hash: ih, peer_id: bin('fan0-'), numwant: 3, offers });
    await peers[0].next();
    await sleep(30);
    let received = 0;
    for (let i = 1; i < 6; i++) {
      while (peers[i].inbox.length > 0) {
        const m = peers[i].inbox.shift();
        assert.equal(m.peer_id, bin('fan0-'));
        received++;
        counts[i]++;
      }
    }
    assert.equal(received, 3, `round ${round}: exactly numwant offers`);
  }
  assert.equal(counts[0], 0, 'never offered to itself');
  assert.ok(counts.slice(1).every((c) => c > 0), `every peer reached over 12 rounds: ${counts}`);
  for (const s of peers) s.close();
});

test('peers expire after 2 x interval, origins are filtered, ids cannot be taken over', async () => {
  const short = await startDaemon({
    'ticket-secret': 'unused-here',
    'webtorrent-interval': 1,
    'webtorrent-origin-allow': 'https://player.example',
    'webtorrent-origin-deny': 'https://blocked.example',
  });
  try {
    const ih = bin('expiry-');
    const a = new Peer(`${short.url}/announce`, { origin: 'https://player.example' });
    await a.opened;
    a.send({ action: 'announce', info_hash: ih, peer_id: bin('exp-a'), offers: [] });
    const reply = await a.next();
    assert.equal(reply.interval, 1);
    // Another socket cannot announce (and so receive offers) as a's peer id.
    const thief = new Peer(`${short.url}/announce`);
    await thief.opened;
    thief.send({ action: 'announce', info_hash: ih, peer_id: bin('exp-a'), offers: [] });
    assert.equal((await thief.next())['failure reason'], 'peer_id in use');
    await sleep(3200);
    a.send({ action: 'scrape', info_hash: ih });
    const scrape = await a.next();
    assert.deepEqual(scrape.files[ih], { complete: 0, incomplete: 0, downloaded: 0 });
    assert.match(await short.metrics(), /signalling_webtorrent_peers_expired_total 1/);

    for (const origin of ['https://blocked.example', 'https://elsewhere.example']) {
      const refused = new Peer(`${short.url}/announce`, { origin });
      assert.equal((await refused.next())['failure reason'], 'origin not allowed');
      assert.equal((await refused.closedWithin()).code, 1008);
    }
    // A binary frame closes only its sender.
    const binary = new Peer(`${short.url}/announce`);
    await binary.opened;
    binary.ws.send(Buffer.from([0, 1, 2]));
    assert.equal((await binary.next())['failure reason'], 'binary frames not supported');
    assert.equal((await binary.closedWithin()).code, 1003);
    a.send({ action: 'scrape', info_hash: ih });
    assert.equal((await a.next()).action, 'scrape');
    a.close();
    thief.close();
  } finally {
    await short.stop();
  }
});
