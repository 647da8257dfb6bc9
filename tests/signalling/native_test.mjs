// Native protocol against the real daemon (and, with SIGNALLING_VIA_NGINX=1, through a
// real nginx configured from conf/signalling-proxy.conf): relay, admission, identity,
// reconnect, and every abuse case refused without harming a bystander pair.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Peer, signTicket, sleep, startDaemon, startNginx, tempDir } from './lib.mjs';

const viaNginx = process.env.SIGNALLING_VIA_NGINX === '1';
const secretDir = tempDir('secret');
const secretFile = path.join(secretDir, 'ticket.secret');
let secret = 'integration-secret-1';
fs.writeFileSync(secretFile, `${secret}\n`);

const settings = {
  'ticket-secret-file': secretFile,
  'max-message-bytes': 4096,
  'messages-per-second': 20,
  'message-burst': 40,
  'max-connections-per-ip': 4,
  'max-peers-per-swarm': 3,
  'ping-interval': 1,
  'idle-timeout': 3,
  'trust-forwarded-for': viaNginx ? 'on' : 'off',
};

let daemon;
let front;
let nextHost = 10;
// Each test's peers come from their own loopback address, so the per-IP limit test
// counts only its own connections.
const newHost = () => `127.0.0.${nextHost++}`;

before(async () => {
  daemon = await startDaemon(settings);
  front = viaNginx ? await startNginx(daemon.port) : null;
});

after(async () => {
  if (front) await front.stop();
  if (daemon) await daemon.stop();
});

const base = () => (front ? front.url : daemon.url);

async function join(peer, swarm, host, ticket = signTicket(secret, peer, swarm)) {
  const socket = new Peer(`${base()}/v1/signal?ticket=${encodeURIComponent(ticket)}`, {
    localAddress: host,
  });
  await socket.opened;
  return socket;
}

async function joinWelcomed(peer, swarm, host = newHost()) {
  const socket = await join(peer, swarm, host);
  const welcome = await socket.next();
  assert.equal(welcome.type, 'welcome');
  assert.equal(welcome.peer_id, peer);
  assert.equal(welcome.swarm_id, swarm);
  return socket;
}

// A pair that must keep working while others misbehave.
async function assertBystandersWork(a, b, tag) {
  a.send({ type: 'offer', to: b.peerId, sdp: `bystander ${tag}` });
  const got = await b.next();
  assert.equal(got.type, 'offer');
  assert.equal(got.from, a.peerId);
  assert.equal(got.sdp, `bystander ${tag}`);
}

let bystanderA;
let bystanderB;

test('two peers exchange offer, answer, candidates and bye', async () => {
  const host = newHost();
  const a = await joinWelcomed('alice', 'swarm1', host);
  const b = await joinWelcomed('bob', 'swarm1', host);
  a.send({ type: 'offer', to: 'bob', sdp: 'v=0\r\no=alice', session: 's1' });
  assert.deepEqual(await b.next(), { type: 'offer', sdp: 'v=0\r\no=alice', session: 's1', from: 'alice' });
  b.send({ type: 'answer', to: 'alice', sdp: 'v=0\r\no=bob', session: 's1' });
  assert.deepEqual(await a.next(), { type: 'answer', sdp: 'v=0\r\no=bob', session: 's1', from: 'bob' });
  for (let i = 0; i < 3; i++) {
    a.send({ type: 'candidate', to: 'bob', candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host`, sdp_mid: '0', sdp_mline_index: 0 });
    const c = await b.next();
    assert.equal(c.type, 'candidate');
    assert.equal(c.from, 'alice');
    assert.equal(c.candidate, `candidate:${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host`);
  }
  b.send({ type: 'candidate', to: 'alice', candidate: 'candidate:9 1 udp 1 127.0.0.1 6000 typ host' });
  assert.equal((await a.next()).from, 'bob');
  a.send({ type: 'ping', id: 'k1' });
  assert.deepEqual(await a.next(), { type: 'pong', id: 'k1' });
  a.send({ type: 'bye', to: 'bob', reason: 'done' });
  assert.deepEqual(await b.next(), { type: 'bye', reason: 'done', from: 'alice' });
  a.close();
  b.close();
  await a.closed;
  await b.closed;
  // The two that stay for the abuse tests.
  bystanderA = await joinWelcomed('by_a', 'bystanders');
  bystanderB = await joinWelcomed('by_b', 'bystanders');
  bystanderA.peerId = 'by_a';
  bystanderB.peerId = 'by_b';
  await assertBystandersWork(bystanderA, bystanderB, 'start');
});

test('forged, expired, malformed, missing and foreign-swarm tickets are refused', async () => {
  const host = newHost();
  const cases = [
    [signTicket('not-the-secret', 'mallory', 'swarm1'), 'ticket_bad_signature'],
    [signTicket(secret, 'mallory', 'swarm1', Math.floor(Date.now() / 1000) - 3600), 'ticket_expired'],
    ['v1.mallory.swarm1', 'ticket_malformed'],
  ];
  for (const [ticket, code] of cases) {
    const s = await join('x', 'y', host, ticket);
    const error = await s.next();
    assert.equal(error.type, 'error');
    assert.equal(error.code, code);
    assert.equal((await s.closedWithin()).code, 4001);
  }
  const bare = new Peer(`${base()}/v1/signal`, { localAddress: host });
  assert.equal((await bare.next()).code, 'ticket_missing');
  assert.equal((await bare.closedWithin()).code, 4001);
  // Splicing another peer's signature onto a claim fails too.
  const real = signTicket(secret, 'alice', 'swarm1');
  const forged = `v1.bob.swarm1.${real.split('.')[3]}.${real.split('.')[4]}`;
  const spliced = await join('x', 'y', host, forged);
  assert.equal((await spliced.next()).code, 'ticket_bad_signature');
  // A valid ticket for another swarm reaches nobody in this one.
  const outsider = await joinWelcomed('carol', 'other-swarm', host);
  outsider.send({ type: 'offer', to: 'by_b', sdp: 'x' });
  const refused = await outsider.next();
  assert.equal(refused.code, 'unknown_peer');
  assert.equal(refused.to, 'by_b');
  assert.ok(await bystanderB.silentFor(200));
  outsider.close();
  await assertBystandersWork(bystanderA, bystanderB, 'tickets');
});

test('a peer cannot send as another', async () => {
  const host = newHost();
  const a = await joinWelcomed('alice2', 'id-swarm', host);
  const b = await joinWelcomed('bob2', 'id-swarm', host);
  const c = await joinWelcomed('carol2', 'id-swarm', host);
  a.send({ type: 'offer', to: 'carol2', from: 'bob2', sdp: 'pretending' });
  assert.equal((await a.next()).code, 'forbidden_field');
  assert.ok(await c.silentFor(200));
  a.send({ type: 'offer', to: 'carol2', sdp: 'honest' });
  const got = await c.next();
  assert.equal(got.from, 'alice2');
  // Unknown/departed target and self target are errors, and the socket stays.
  b.close();
  await b.closed;
  await sleep(50);
  a.send({ type: 'answer', to: 'bob2', sdp: 'x' });
  assert.equal((await a.next()).code, 'unknown_peer');
  a.send({ type: 'answer', to: 'alice2', sdp: 'x' });
  assert.equal((await a.next()).code, 'self_target');
  a.send('{not json');
  assert.equal((await a.next()).code, 'bad_json');
  a.send({ type: 'offer', to: 'carol2', sdp: 'x', extra: true });
  assert.equal((await a.next()).code, 'bad_message');
  a.send({ type: 'offer', to: 'carol2', sdp: 'still here' });
  assert.equal((await c.next()).sdp, 'still here');
  a.close();
  c.close();
});

test('reconnecting with the same ticket replaces the old connection', async () => {
  const host = newHost();
  const ticket = signTicket(secret, 'dave', 'rc-swarm');
  const first = await join('dave', 'rc-swarm', host, ticket);
  assert.equal((await first.next()).type, 'welcome');
  const other = await joinWelcomed('erin', 'rc-swarm', host);
  const second = await join('dave', 'rc-swarm', host, ticket);
  assert.equal((await second.next()).type, 'welcome');
  assert.equal((await first.next()).code, 'replaced');
  assert.equal((await first.closedWithin()).code, 4002);
  other.send({ type: 'offer', to: 'dave', sdp: 'to the new socket' });
  assert.equal((await second.next()).sdp, 'to the new socket');
  second.close();
  other.close();
});

test('oversized, fragmented-oversized and binary messages close only the sender', async () => {
  const big = await joinWelcomed('big', 'abuse');
  big.send({ type: 'offer', to: 'by_a', sdp: 'x'.repeat(5000) });
  assert.equal((await big.next()).code, 'message_too_large');
  assert.equal((await big.closedWithin()).code, 1009);

  const frag = await joinWelcomed('frag', 'abuse');
  for (let i = 0; i < 5; i++) frag.ws.send('y'.repeat(1000), { fin: false });
  frag.ws.send('}', { fin: true });
  assert.equal((await frag.next()).code, 'message_too_large');
  assert.equal((await frag.closedWithin()).code, 1009);

  // A fragmented message under the limit is reassembled and relayed.
  const f1 = await joinWelcomed('f1', 'frag-ok');
  const f2 = await joinWelcomed('f2', 'frag-ok');
  const text = JSON.stringify({ type: 'offer', to: 'f2', sdp: 'z'.repeat(2500) });
  f1.ws.send(text.slice(0, 1000), { fin: false });
  f1.ws.send(text.slice(1000, 2000), { fin: false });
  f1.ws.send(text.slice(2000), { fin: true });
  assert.equal((await f2.next()).sdp.length, 2500);
  f1.close();
  f2.close();
  await f1.closed;
  await f2.closed;

  const bin = await joinWelcomed('bin', 'abuse');
  bin.ws.send(Buffer.from([1, 2, 3]));
  assert.equal((await bin.next()).code, 'binary_not_allowed');
  assert.equal((await bin.closedWithin()).code, 1003);
  await assertBystandersWork(bystanderA, bystanderB, 'size');
});

test('a flooding connection is rate limited; the others are not', async () => {
  const host = newHost();
  const flood = await joinWelcomed('flood', 'abuse', host);
  for (let i = 0; i < 200; i++) flood.send({ type: 'ping' });
  const seen = [];
  for (;;) {
    const m = await flood.next().catch(() => null);
    if (!m) break;
    seen.push(m);
    if (m.type === 'error') break;
  }
  assert.equal(seen.at(-1).code, 'rate_limited');
  assert.ok(seen.length <= 42, `burst is 40, saw ${seen.length} frames`);
  assert.equal((await flood.closedWithin()).code, 1008);
  await assertBystandersWork(bystanderA, bystanderB, 'rate');
});

test('connections per address and peers per swarm are capped', async () => {
  const host = newHost();
  const sockets = [];
  for (let i = 0; i < 4; i++) sockets.push(await joinWelcomed(`ip${i}`, `ipswarm${i}`, host));
  const extra = await join('ip4', 'ipswarm4', host);
  const refused = await extra.next();
  assert.equal(refused.code, 'too_many_connections');
  assert.equal((await extra.closedWithin()).code, 1008);
  for (const s of sockets) s.close();
  await Promise.all(sockets.map((s) => s.closed));

  const members = [];
  for (let i = 0; i < 3; i++) members.push(await joinWelcomed(`m${i}`, 'small-swarm'));
  const fourth = await join('m3', 'small-swarm', newHost());
  assert.equal((await fourth.next()).code, 'swarm_full');
  assert.equal((await fourth.closedWithin()).code, 1008);
  members[0].send({ type: 'offer', to: 'm1', sdp: 'members still talk' });
  assert.equal((await members[1].next()).sdp, 'members still talk');
  for (const m of members) m.close();
  await assertBystandersWork(bystanderA, bystanderB, 'limits');
});

test('a connection that never answers pings is closed as idle; live ones stay', async () => {
  const host = newHost();
  // No automatic pong and nothing sent: after idle_timeout (3 s) the daemon closes it.
  const ticket = encodeURIComponent(signTicket(secret, 'mute', 'idle'));
  const mute = new Peer(`${base()}/v1/signal?ticket=${ticket}`, { localAddress: host, autoPong: false });
  assert.equal((await mute.next()).type, 'welcome');
  const live = await joinWelcomed('live', 'idle', host);
  const closing = await mute.closedWithin(8000);
  assert.ok([1000, 1006].includes(closing.code), `close code ${closing.code}`);
  assert.equal(live.closeInfo, null);
  live.send({ type: 'ping' });
  assert.equal((await live.next()).type, 'pong');
  live.close();
  await assertBystandersWork(bystanderA, bystanderB, 'idle');
});

// A raw WebSocket client that completes the handshake and then never reads.
function openNonReader(port, ticket, host) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: host }, () => {
      socket.write(
        `GET /v1/signal?ticket=${encodeURIComponent(ticket)} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    });
    socket.setTimeout(10000, () => reject(new Error('handshake timeout')));
    socket.on('error', () => {});
  });
}

test('a peer that never reads is dropped; memory stays bounded', async () => {
  // Its own daemon: fast senders allowed, idle close far away, so only the queue bound acts.
  const fast = await startDaemon({
    'ticket-secret': 'slow-secret',
    'messages-per-second': 100000,
    'message-burst': 100000,
    'idle-timeout': 120,
    'max-message-bytes': 65536,
    'max-queue-bytes': 262144,
  });
  try {
    const host = newHost();
    const sink = await openNonReader(fast.port, signTicket('slow-secret', 'sink', 'slow'), host);
    const sender = new Peer(`${fast.url}/v1/signal?ticket=${signTicket('slow-secret', 'sender', 'slow')}`);
    assert.equal((await sender.next()).type, 'welcome');
    const payload = 'q'.repeat(60000);
    let unknown = 0;
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && unknown === 0) {
      for (let i = 0; i < 20; i++) sender.send({ type: 'offer', to: 'sink', sdp: payload });
      await sleep(100);
      while (sender.inbox.length > 0) {
        if (sender.inbox.shift().code === 'unknown_peer') unknown++;
      }
    }
    assert.ok(unknown > 0, 'the non-reader was never dropped');
    const metrics = await fast.metrics();
    assert.match(metrics, /signalling_rejects_total\{reason="slow_reader"\} 1/);
    const queued = Number(/signalling_queued_bytes (\d+)/.exec(metrics)[1]);
    assert.ok(queued <= 262144 + 65536, `queued bytes ${queued}`);
    assert.equal(sender.closeInfo, null);
    sender.send({ type: 'ping' });
    let pong = null;
    while (!pong) {
      const m = await sender.next();
      if (m.type === 'pong') pong = m;
    }
    sink.destroy();
    sender.close();
  } finally {
    await fast.stop();
  }
  await assertBystandersWork(bystanderA, bystanderB, 'slow');
});

test('a burst from many senders arrives whole and in order (writes held and coalesced)', async () => {
  // Its own daemon, limits out of the way: enough frames per loop pass that the daemon
  // holds its writes (write_coalesce_us) and sends each queue in one piece.
  const busy = await startDaemon({
    'ticket-secret': 'burst-secret',
    'messages-per-second': 100000,
    'message-burst': 100000,
    'write-coalesce-us': 5000,
  });
  const join = async (peer) => {
    const socket = new Peer(`${busy.url}/v1/signal?ticket=${signTicket('burst-secret', peer, 'burst')}`);
    assert.equal((await socket.next()).type, 'welcome');
    return socket;
  };
  try {
    const receiver = await join('receiver');
    const senders = [];
    for (let s = 0; s < 6; s++) senders.push(await join(`sender${s}`));
    const perSender = 200;
    // Each sender's frames leave in one TCP write (corked), so they wait in the daemon's
    // socket buffers together and loop passes see many frames at once, however fast the
    // daemon is.
    senders.forEach((sender, s) => {
      sender.ws._socket.cork();
      for (let i = 0; i < perSender; i++) {
        sender.send({ type: 'candidate', to: 'receiver', candidate: `${s}:${i}` });
      }
    });
    for (const sender of senders) sender.ws._socket.uncork();
    const next = new Array(senders.length).fill(0);
    for (let n = 0; n < senders.length * perSender; n++) {
      const m = await receiver.next();
      assert.equal(m.type, 'candidate');
      const [s, i] = m.candidate.split(':').map(Number);
      assert.equal(m.from, `sender${s}`);
      assert.equal(i, next[s], `sender${s}'s frames out of order`);
      next[s]++;
    }
    const metrics = await busy.metrics();
    assert.match(metrics, /signalling_messages_relayed_total\{protocol="native"\} 1200/);
    const holds = Number(/signalling_write_holds_total (\d+)/.exec(metrics)[1]);
    assert.ok(holds >= 1, 'no loop pass held its writes');
    for (const socket of [receiver, ...senders]) socket.close();
  } finally {
    await busy.stop();
  }
  await assertBystandersWork(bystanderA, bystanderB, 'burst');
});

test('metrics count connections, relays and rejects by reason', async () => {
  const metrics = await daemon.metrics();
  assert.match(metrics, /# TYPE signalling_connections gauge/);
  assert.match(metrics, /signalling_connections\{protocol="native"\} [1-9]/);
  assert.match(metrics, /signalling_messages_relayed_total\{protocol="native"\} [1-9]/);
  assert.match(metrics, /signalling_swarms\{protocol="native"\} [1-9]/);
  for (const reason of ['ticket_bad_signature', 'ticket_expired', 'forbidden_field', 'rate_limited', 'message_too_large', 'binary_not_allowed', 'too_many_connections', 'swarm_full']) {
    assert.match(metrics, new RegExp(`signalling_rejects_total\\{reason="${reason}"\\} [1-9]`));
  }
});

test('SIGHUP reloads the ticket secret; SIGTERM drains and exits', async () => {
  const host = newHost();
  secret = 'integration-secret-2';
  fs.writeFileSync(secretFile, `${secret}\n`);
  daemon.child.kill('SIGHUP');
  const end = Date.now() + 5000;
  let welcomed = false;
  while (!welcomed && Date.now() < end) {
    const s = await join('fresh', 'hup', host);
    const m = await s.next();
    welcomed = m.type === 'welcome';
    if (!welcomed) await sleep(100);
    s.close();
  }
  assert.ok(welcomed, 'a ticket signed with the new secret is accepted after SIGHUP');
  const old = await join('stale', 'hup', host, signTicket('integration-secret-1', 'stale', 'hup'));
  assert.equal((await old.next()).code, 'ticket_bad_signature');
  if (front) {
    // The WebTorrent path goes through the same proxy.
    const wt = new Peer(`${front.url}/announce`);
    await wt.opened;
    wt.send({ action: 'announce', info_hash: 'i'.repeat(20), peer_id: 'p'.repeat(20), offers: [] });
    const reply = await wt.next();
    assert.equal(reply.action, 'announce');
    assert.equal(reply.interval, 120);
    wt.close();
    const log = front.errorLog();
    assert.doesNotMatch(log, /\[(alert|crit|emerg)\]/, log);
    // The drain below is the daemon's; nginx stays out of it.
    await front.stop();
    front = null;
    bystanderA.close();
    bystanderB.close();
    return;
  }
  const t0 = Date.now();
  daemon.child.kill('SIGTERM');
  const bye = await bystanderA.next(5000);
  assert.equal(bye.code, 'shutting_down');
  assert.equal((await bystanderA.closedWithin(5000)).code, 1001);
  const exit = await daemon.exited;
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 5000);
});
