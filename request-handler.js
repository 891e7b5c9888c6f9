'use strict';
// The one request handler tfx-auth gives azure-devops-node-api / typed-rest-client, for the tfx
// hook (tfx/seams.js) and for Node scripts (getRequestHandler, getWebApi): the shape of
// typed-rest-client's IRequestHandler (prepareRequest, canHandleAuthentication,
// handleAuthentication).
//
// Where the credential goes: typed-rest-client calls prepareRequest for every request and again
// for every redirect it follows, and for URLs the server names itself (ResourceAreas, location
// data). Authorization is set only when the request's origin (scheme, host, port) is the origin of
// the service URL the credential was resolved for; any other request loses every Authorization
// header it carries. azure-devops-node-api's own handlers compare the host alone, and only when
// `allowCrossOriginAuthentication` is false (it defaults to true).
//
// Which credential and which wire form are the addon's (resolveCredential, authorizationHeader):
// this file only holds the current header, renews it ahead of expiry, and replays a 401 once.

const https = require('node:https');

// Renewal, relative to a token's lifetime so the same rule holds for a real one (an hour or more)
// and a test's few seconds: renew RENEW_AHEAD_MS before expiry (inside the addon's own 5-minute
// refresh margin, so asking renews) or halfway through a shorter life; prepareRequest never sends
// a token with less than NEVER_CLOSER_MS (or a quarter of its life) left while a renewal may still
// replace it. A failed or fruitless renewal is retried after RETRY_MS at the latest.
const RENEW_AHEAD_MS = 5 * 60_000 - 15_000;
const NEVER_CLOSER_MS = 2 * 60_000;
const RETRY_MS = 30_000;

const DEFAULT_PORTS = { 'http:': 80, 'https:': 443 };

const bare = (host) => String(host).toLowerCase().replace(/^\[(.*)\]$/, '$1');

/** `scheme://host:port` of a WHATWG URL, default port filled in; IPv6 without brackets. */
function urlOrigin(url) {
  const u = new URL(url);
  if (!DEFAULT_PORTS[u.protocol]) return null;
  return `${u.protocol}//${bare(u.hostname)}:${u.port || DEFAULT_PORTS[u.protocol]}`;
}

// The scheme of a request typed-rest-client prepares: its options carry host, port, path and the
// agent, not the protocol. `protocol` wins when a caller sets it (Node's http.request options);
// else the agent tells: Node's agents name their protocol, typed-rest-client's proxy tunnels
// (`tunnel.httpsOverHttp(s)`) set defaultPort 443 for https. Anything else counts as http, Node's
// default: a wrong guess can only withhold the credential of an https URL, never send it elsewhere.
function requestScheme(options) {
  if (typeof options.protocol === 'string') return options.protocol.toLowerCase();
  const agent = options.agent;
  if (agent instanceof https.Agent) return 'https:';
  if (agent && typeof agent.protocol === 'string') return agent.protocol.toLowerCase();
  if (agent && agent.defaultPort === 443) return 'https:';
  return 'http:';
}

/** The origin of a request's options (`host`/`hostname`, `port`, scheme as above), or null. */
function requestOrigin(options) {
  const scheme = requestScheme(options);
  if (!DEFAULT_PORTS[scheme]) return null;
  let host = options.hostname ?? options.host;
  if (typeof host !== 'string' || !host) return null;
  let port = options.port;
  // `host` may be `name:port` (Node accepts it); `hostname` never is.
  const withPort = options.hostname == null && /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  if (withPort) [host, port] = [withPort[1], withPort[2]];
  port = port === undefined || port === null || port === '' ? DEFAULT_PORTS[scheme] : Number(port);
  if (!Number.isInteger(port)) return null;
  return `${scheme}//${bare(host)}:${port}`;
}

function dropAuthorization(headers) {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
}

const replayable = (body) => body === undefined || body === null || typeof body === 'string' || Buffer.isBuffer(body);

/**
 * A request handler for `serviceUrl`, holding `header` (`{ authorization, expiresOn? }`).
 * `renew()` resolves to a fresh one (or null): the addon's resolve again, which renews a stored
 * Entra login ahead of expiry.
 */
class TfxAuthRequestHandler {
  constructor(serviceUrl, header, renew) {
    const origin = urlOrigin(serviceUrl);
    if (!origin) throw Object.assign(new Error(`invalid service URL: ${serviceUrl}`), { code: 'INVALID_URL' });
    // Non-enumerable: console.log / JSON of the handler (or of a WebApi holding it) shows no secret.
    Object.defineProperties(this, {
      serviceUrl: { value: serviceUrl, enumerable: true },
      origin: { value: origin, enumerable: true },
      _header: { value: null, writable: true },
      _lifetime: { value: 0, writable: true },
      _noBetter: { value: false, writable: true },
      _renew: { value: renew },
      _renewing: { value: null, writable: true },
      _timer: { value: null, writable: true },
      _unauthorized: { value: null, writable: true },
    });
    this._set(header);
    this._schedule();
  }

  /** When the current header expires (ms since the epoch), if known. */
  get expiresOn() {
    return this._header ? this._header.expiresOn : undefined;
  }

  /** Whether a request with these options goes to the service URL's origin. */
  isOwnOrigin(options) {
    return requestOrigin(options) === this.origin;
  }

  prepareRequest(options) {
    if (!options.headers) options.headers = {};
    dropAuthorization(options.headers);
    options.headers['X-TFS-FedAuthRedirect'] = 'Suppress'; // 401, not the 203 sign-in page (as stock)
    const header = this._header;
    if (!header || !this.isOwnOrigin(options)) return;
    if (this._expiresSoon() && !this._noBetter) {
      // Sent without; the server's 401 comes back to handleAuthentication, which waits for this.
      this.renew();
      return;
    }
    options.headers.Authorization = header.authorization;
  }

  canHandleAuthentication(response) {
    const status = response && response.message && response.message.statusCode;
    if (status !== 401) return false;
    // typed-rest-client calls handleAuthentication right after this, synchronously; it does not
    // pass the response on, and "return the 401 as it came" needs it.
    this._unauthorized = response;
    return true;
  }

  async handleAuthentication(httpClient, requestInfo, body) {
    const response = this._unauthorized;
    this._unauthorized = null;
    if (!requestInfo || !this.isOwnOrigin(requestInfo.options) || !replayable(body)) return response;
    const before = this._header && this._header.authorization;
    const renewed = await this.renew();
    if (!renewed || renewed.authorization === before) return response;
    await response.readBody(); // frees the socket before the replay
    this.prepareRequest(requestInfo.options);
    return httpClient.requestRaw(requestInfo, body);
  }

  /** Asks for a fresh header now (one renewal at a time); resolves to it, or null. */
  renew() {
    if (!this._renewing) {
      this._renewing = Promise.resolve()
        .then(() => this._renew && this._renew())
        .then((header) => {
          this._set(header);
          return header || null;
        }, () => {
          this._noBetter = true;
          return null;
        })
        .finally(() => {
          this._renewing = null;
          this._schedule();
        });
    }
    return this._renewing;
  }

  /** Stops the renewal timer (it never keeps the process alive anyway). */
  dispose() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  }

  _set(header) {
    if (!header) {
      this._noBetter = true;
      return;
    }
    const previous = this._header;
    // A renewal that brings no later expiry (a fixed TFX_ENTRA_TOKEN, an expired sign-in) is no
    // better: the token in hand is then sent as it is, and the server decides.
    this._noBetter = previous !== null && !(header.expiresOn > (previous.expiresOn ?? Infinity))
      && header.authorization === previous.authorization;
    this._header = header;
    if (header.expiresOn !== undefined && !this._noBetter) this._lifetime = Math.max(0, header.expiresOn - Date.now());
  }

  _expiresSoon() {
    const { expiresOn } = this._header;
    return expiresOn !== undefined && expiresOn - Date.now() < Math.min(NEVER_CLOSER_MS, this._lifetime / 4);
  }

  _schedule() {
    this.dispose();
    const expiresOn = this._header && this._header.expiresOn;
    if (expiresOn === undefined || !this._renew) return;
    const ahead = Math.min(RENEW_AHEAD_MS, this._lifetime / 2);
    let delay = expiresOn - ahead - Date.now();
    if (this._noBetter || delay < 0) delay = Math.min(RETRY_MS, Math.max(1000, (expiresOn - Date.now()) / 2));
    this._timer = setTimeout(() => this.renew(), Math.min(delay, 2 ** 31 - 1));
    this._timer.unref();
  }
}

/** The header `credential` takes for `serviceUrl`: the wire form is the addon's (credential::wire). */
function headerFor(addon, serviceUrl, credential, extensionCommand = false) {
  if (!credential) return null;
  const authorization = addon.authorizationHeader(String(serviceUrl), credential, { extensionCommand });
  return credential.expiresOn === undefined || credential.expiresOn === null
    ? { authorization }
    : { authorization, expiresOn: credential.expiresOn };
}

/**
 * The handler for `credential` at `serviceUrl`. `resolveAgain()` resolves to the credential in
 * effect now (the addon's resolveCredential again: a stored Entra login comes back renewed), or
 * null; without it the credential is never renewed.
 */
function createRequestHandler(addon, serviceUrl, credential, { extensionCommand = false, resolveAgain = null } = {}) {
  const renew = resolveAgain && (async () => headerFor(addon, serviceUrl, await resolveAgain(), extensionCommand));
  return new TfxAuthRequestHandler(String(serviceUrl), headerFor(addon, serviceUrl, credential, extensionCommand), renew);
}

module.exports = { TfxAuthRequestHandler, createRequestHandler, headerFor, requestOrigin, urlOrigin };
