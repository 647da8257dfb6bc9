// The project's signalling daemon (signalling/, p2p-signalling) for interop tests:
// starts it on a free 127.0.0.1 port with a fresh ticket secret, mints tickets
// (tracker/ticket.h format) and bridges our datachannel_peer's stdin/stdout signalling
// onto a native-protocol WebSocket (signalling/README.md), so offers, answers and
// candidates really cross the daemon.
'use strict';

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const path = require('path');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function makeTicket(secret, peerId, swarmId, lifetimeSeconds = 600) {
  const expiry = Math.floor(Date.now() / 1000) + lifetimeSeconds;
  const body = `v1.${peerId}.${swarmId}.${expiry}`;
  const signature = crypto.createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${signature}`;
}

// Starts the daemon; resolves to { url, ticket(peerId), stop() }.
async function startSignalling(daemonBinary, workDir) {
  const secret = crypto.randomBytes(32).toString('hex');
  const secretFile = path.join(workDir, 'ticket.secret');
  fs.writeFileSync(secretFile, secret, { mode: 0o600 });
  const port = await freePort();
  const daemon = spawn(daemonBinary, [
    '--listen', '127.0.0.1', '--port', String(port), '--ticket-secret-file', secretFile,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (chunk) => { log += chunk; });
  const deadline = Date.now() + 10000;
  while (!(await canConnect(port))) {
    if (daemon.exitCode !== null || Date.now() > deadline) {
      daemon.kill('SIGKILL');
      throw new Error(`signalling daemon did not start: ${log.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const swarm = `interop${crypto.randomBytes(4).toString('hex')}`;
  return {
    url: `ws://127.0.0.1:${port}/v1/signal`,
    ticket: (peerId) => makeTicket(secret, peerId, swarm),
    stop: () => new Promise((resolve) => {
      if (daemon.exitCode !== null) return resolve();
      const killer = setTimeout(() => daemon.kill('SIGKILL'), 3000);
      daemon.once('exit', () => { clearTimeout(killer); resolve(); });
      daemon.kill('SIGTERM');
    }),
  };
}

// A native-protocol connection; resolves once the daemon welcomed it.
// onMessage gets every relayed message (objects with `from`).
function connectSignalling(signalling, peerId, onMessage, onError) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${signalling.url}?ticket=${signalling.ticket(peerId)}`);
    let welcomed = false;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'welcome') {
        welcomed = true;
        resolve({
          send: (object) => ws.send(JSON.stringify(object)),
          close: () => ws.close(),
        });
      } else if (message.type === 'error') {
        (welcomed ? onError : reject)(new Error(`signalling error ${message.code}: ${message.message}`));
      } else if (message.type !== 'pong') {
        onMessage(message);
      }
    };
    ws.onerror = () => (welcomed ? onError : reject)(new Error('signalling socket error'));
  });
}

// Maps a datachannel_peer line (offer/answer/candidate) to a native message for `to`,
// or null for local control lines (state, open, verified, failed).
function peerLineToSignal(message, to, session) {
  if (message.type === 'offer' || message.type === 'answer') {
    return { type: message.type, to, sdp: message.sdp, session };
  }
  if (message.type === 'candidate' && message.candidate) {
    return { type: 'candidate', to, candidate: message.candidate, sdp_mid: '0', sdp_mline_index: 0, session };
  }
  return null;
}

// Maps a relayed native message to a datachannel_peer input line (or null).
function signalToPeerLine(message) {
  if (message.type === 'offer' || message.type === 'answer') return { type: message.type, sdp: message.sdp };
  if (message.type === 'candidate') return { type: 'candidate', candidate: message.candidate };
  return null;
}

module.exports = { startSignalling, connectSignalling, peerLineToSignal, signalToPeerLine, makeTicket };
