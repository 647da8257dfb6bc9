// Shared pieces of the signalling integration tests: start the daemon (and optionally an
// nginx in front of it) on free loopback ports, sign tickets, and a WebSocket client
// whose every wait is bounded.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));

export function daemonBinary() {
  const candidates = [
    process.env.SIGNALLING_BIN,
    process.env.TEST_SRCDIR &&
      path.join(process.env.TEST_SRCDIR, process.env.TEST_WORKSPACE || '__main__',
                'signalling/p2p-signalling'),
    path.join(here, '../../bazel-bin/signalling/p2p-signalling'),
  ].filter(Boolean);
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  throw new Error('p2p-signalling binary not found (set SIGNALLING_BIN)');
}

export function tempDir(name) {
  const base = process.env.TEST_TMPDIR || os.tmpdir();
  return fs.mkdtempSync(path.join(base, `${name}-`));
}

export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The tracker's ticket (tracker/ticket.h): v1.<peer>.<swarm>.<expiry>.<b64url hmac>.
export function signTicket(secret, peer, swarm, expiry = Math.floor(Date.now() / 1000) + 3600) {
  const payload = `v1.${peer}.${swarm}.${expiry}`;
  const sig = createHmac('sha256', secret).update(payload).digest('base64url');
  return `${payload}.${sig}`;
}

async function waitForHttp(port, deadlineMs, child) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (child && child.exitCode !== null) throw new Error(`process exited ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`nothing answered on port ${port}`);
}

// Starts p2p-signalling with `settings` as flags; resolves once /metrics answers.
export async function startDaemon(settings = {}) {
  const port = await freePort();
  const args = ['--listen', '127.0.0.1', '--port', String(port)];
  for (const [key, value] of Object.entries(settings)) args.push(`--${key}`, String(value));
  const child = spawn(daemonBinary(), args, { stdio: ['ignore', 'inherit', 'inherit'] });
  await waitForHttp(port, 5000, child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    port,
    child,
    exited,
    url: `ws://127.0.0.1:${port}`,
    async metrics() {
      return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

// Debian's nginx in front of the daemon, configured from conf/signalling-proxy.conf with
// only the listen address and the upstream port replaced.
export async function startNginx(daemonPort) {
  const prefix = tempDir('nginx');
  const port = await freePort();
  let proxy = fs.readFileSync(path.join(here, '../../conf/signalling-proxy.conf'), 'utf8');
  proxy = proxy
    .replace(/server 127\.0\.0\.1:8090/g, `server 127.0.0.1:${daemonPort}`)
    .replace(/^\s*listen\s+[^;]*;/gm, `    listen 127.0.0.1:${port};`)
    .replace(/^\s*(ssl_[a-z_]+|http2|server_name)\s[^;]*;/gm, '');
  for (const dir of ['logs', 'tmp']) fs.mkdirSync(path.join(prefix, dir), { recursive: true });
  const user = process.getuid && process.getuid() === 0 ? 'user root;\n' : '';
  const conf = `${user}daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log info;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
${proxy}
}
`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  execFileSync('/usr/sbin/nginx', ['-t', '-p', prefix, '-c', path.join(prefix, 'nginx.conf')], {
    stdio: 'pipe',
  });
  const child = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const end = Date.now() + 5000;
  for (;;) {
    try {
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.end();
          resolve();
        });
        socket.once('error', reject);
      });
      break;
    } catch (err) {
      if (Date.now() > end || child.exitCode !== null) throw err;
      await sleep(50);
    }
  }
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    errorLog: () => fs.readFileSync(path.join(prefix, 'logs/error.log'), 'utf8'),
    async stop() {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// A WebSocket whose received text frames are parsed JSON objects in arrival order.
export class Peer {
  constructor(url, options = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    this.inbox = [];
    this.waiters = [];
    this.closeInfo = null;
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`closed ${code}`));
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      let message;
      try {
        message = isBinary ? { binary: data } : JSON.parse(data.toString());
      } catch {
        message = { unparsed: data.toString() };
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.inbox.push(message);
    });
  }

  send(message) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next(timeoutMs = 3000) {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    if (this.closeInfo) return Promise.reject(new Error(`closed ${this.closeInfo.code}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // Resolves to the close {code, reason} within the deadline, or rejects.
  closedWithin(timeoutMs = 3000) {
    return Promise.race([
      this.closed,
      sleep(timeoutMs).then(() => {
        throw new Error(`not closed within ${timeoutMs} ms`);
      }),
    ]);
  }

  // True if nothing arrives for `ms`.
  async silentFor(ms) {
    if (this.inbox.length > 0) return false;
    await sleep(ms);
    return this.inbox.length === 0;
  }

  close() {
    this.ws.close();
  }

  terminate() {
    this.ws.terminate();
  }
}
