// Small helpers shared by the suites that talk to the fake Azure DevOps server
// (validate, tls-proxy, login). Not a test file itself.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

export const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];

/**
 * Removes every proxy variable from `env` (this process by default), so a proxy set
 * on the machine can never route a test request off loopback. Call before the addon
 * builds its first HTTP client.
 */
export function scrubProxyEnv(env = process.env) {
  for (const name of PROXY_VARS) delete env[name];
  return env;
}

/** A loopback port nothing listens on (bound, then released). */
export function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The Authorization header tfx-cli (and tfx-auth) send. */
export const basicHeader = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
export const patHeader = (token) => basicHeader('OAuth', token);

export const pat = (token) => ({ type: 'pat', token });

export const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/** Awaits `promise`, resolving to [its result or error, milliseconds taken]. */
export async function timed(promise) {
  const t0 = performance.now();
  try {
    return [await promise, performance.now() - t0];
  } catch (err) {
    return [err, performance.now() - t0];
  }
}

/** The requests a fake-ado server saw on its main listener (not the redirect target). */
export const mainRequests = (ado) => ado.requests.filter((r) => r.listener === 'main');

/**
 * A CONNECT proxy on loopback that tunnels every target to 127.0.0.1:`port` (no name is resolved)
 * and records each request head (`CONNECT host:port` and its headers).
 */
export async function startTunnel(port) {
  const connects = [];
  const heads = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const text = head.subarray(0, end).toString('latin1');
      const [method, target] = text.split(' ');
      connects.push(`${method} ${target}`);
      heads.push(text);
      if (method !== 'CONNECT') { client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n'); return; }
      const upstream = net.connect(port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.write(head.subarray(end + 4));
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    connects,
    heads,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((resolve) => server.close(resolve)); },
  };
}
