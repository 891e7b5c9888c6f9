'use strict';
// The login, reused from Node scripts: getRequestHandler (an azure-devops-node-api /
// typed-rest-client request handler), getWebApi (the caller's own azure-devops-node-api WebApi
// with that handler) and getAuthorizationHeader (for fetch). Which credential: only the addon's
// resolveCredential, with no flags (the environment, the stored login, the CI sources, the Azure
// CLI). Which wire form: the addon's authorizationHeader. Where it may go, renewal and the 401
// replay: request-handler.js. Bound to the addon by binding.js (forAddon).

const Module = require('node:module');
const path = require('node:path');
const { createRequestHandler, headerFor } = require('./request-handler');

const PEER = 'azure-devops-node-api';
/** typed-rest-client's IRequestOptions a caller may set (own properties only). */
const REQUEST_OPTIONS = ['ignoreSslError', 'proxy', 'socketTimeout', 'allowRetries', 'maxRetries', 'keepAlive', 'cert',
  'headers', 'globalAgentOptions', 'maxSockets', 'presignedUrlPatterns', 'allowRedirects', 'allowRedirectDowngrade', 'maxRedirects'];

/** Error codes thrown only by the JavaScript layer (the Rust ones are in src/error.rs). */
const JS_ERROR_CODES = ['MISSING_PEER_DEPENDENCY'];

function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

function invalid(message) {
  return coded('INVALID_ARGUMENT', `invalid argument: ${message}`);
}

/** Own, non-inherited option values only (a polluted Object.prototype sets nothing). */
function ownOptions(options, names, what) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid(`${what} must be an object`);
  const own = {};
  for (const name of names) if (Object.hasOwn(options, name) && options[name] !== undefined) own[name] = options[name];
  return own;
}

function serviceOption(service) {
  if (service === undefined) return false;
  if (service !== 'azure-devops' && service !== 'marketplace') throw invalid("options.service must be 'azure-devops' or 'marketplace'");
  return service === 'marketplace';
}

/** The main script's folder: require.main for CommonJS, process.argv[1] for an ES module. */
function mainFolder() {
  const main = (require.main && require.main.filename) || process.argv[1];
  return main ? path.dirname(path.resolve(main)) : null;
}

/** The caller's azure-devops-node-api: beside the main script, then in the current folder. */
function findNodeApi(from = [mainFolder(), process.cwd()]) {
  const folders = [...new Set(from.filter(Boolean))];
  for (const folder of folders) {
    try {
      return Module.createRequire(path.join(folder, 'noop.js'))(PEER);
    } catch (err) {
      if (!err || err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(`'${PEER}'`)) throw err;
    }
  }
  throw coded('MISSING_PEER_DEPENDENCY',
    `getWebApi needs ${PEER}, an optional peer dependency of tfx-auth, and it was not found from ${folders.join(' or ')}. ` +
    `Install it in your project: npm install ${PEER} (or pass it: getWebApi(url, { nodeApi: require('${PEER}') })).`);
}

/** typed-rest-client's proxy option for the proxy tfx-auth uses (null: none, not even the environment's). */
function proxyOption(proxy) {
  if (!proxy) return { proxyUrl: '' }; // '' keeps typed-rest-client from reading HTTP(S)_PROXY itself
  const u = new URL(proxy);
  const option = { proxyUrl: `${u.protocol}//${u.host}` };
  if (u.username || u.password) {
    option.proxyUsername = decodeURIComponent(u.username);
    option.proxyPassword = decodeURIComponent(u.password);
  }
  return option;
}

function forAddon(addon) {
  // `flags`: resolveCredential's; { skipCertValidation: true } when the requests will not verify
  // the server (the caller's ignoreSslError), so that, as with --skip-cert-validation, no Entra
  // token goes there.
  async function resolved(serviceUrl, flags) {
    if (typeof serviceUrl !== 'string') throw invalid(`serviceUrl must be a string, not ${serviceUrl === null ? 'null' : typeof serviceUrl}`);
    addon.normalizeServiceUrl(serviceUrl); // INVALID_URL before anything is looked up
    const found = await addon.resolveCredential(serviceUrl, flags);
    if (!found) {
      throw coded('NOT_LOGGED_IN',
        `No credential for ${serviceUrl}: log in (tfx login --service-url ${serviceUrl}) or set AZURE_DEVOPS_EXT_PAT.`);
    }
    return found;
  }

  async function getRequestHandler(serviceUrl, options) {
    const { service } = ownOptions(options, ['service'], 'options');
    return handlerFor(serviceUrl, serviceOption(service), false);
  }

  async function handlerFor(serviceUrl, extensionCommand, skipCertValidation) {
    const flags = skipCertValidation ? { skipCertValidation: true } : undefined;
    const found = await resolved(serviceUrl, flags);
    const resolveAgain = async () => ((await addon.resolveCredential(serviceUrl, flags)) || {}).credential;
    return createRequestHandler(addon, serviceUrl, found.credential, { extensionCommand, resolveAgain });
  }

  async function getWebApi(serviceUrl, options) {
    const own = ownOptions(options, ['nodeApi', 'requestOptions', 'service'], 'options');
    if (own.nodeApi !== undefined && (typeof own.nodeApi !== 'object' || typeof own.nodeApi.WebApi !== 'function')) {
      throw invalid(`options.nodeApi must be the ${PEER} module (require('${PEER}'))`);
    }
    const theirs = ownOptions(own.requestOptions, REQUEST_OPTIONS, 'options.requestOptions');
    const nodeApi = own.nodeApi || findNodeApi();
    const extensionCommand = serviceOption(own.service);
    const handler = await handlerFor(serviceUrl, extensionCommand, Boolean(theirs.ignoreSslError));
    const requestOptions = {
      // The choice remembered for this URL (tfx login --skip-cert-validation); NODE_EXTRA_CA_CERTS
      // needs nothing here: Node reads it at start-up, and a `ca` option would replace the roots.
      ignoreSslError: await addon.getSkipCertValidation(serviceUrl),
      proxy: proxyOption(addon.proxyFor(serviceUrl)),
      ...theirs,
    };
    const url = serviceUrl.replace(/(?<=[^/])\/+$/, '');
    return new nodeApi.WebApi(url, handler, requestOptions);
  }

  async function getAuthorizationHeader(serviceUrl, options) {
    const extensionCommand = serviceOption(ownOptions(options, ['service'], 'options').service);
    const found = await resolved(serviceUrl);
    return headerFor(addon, serviceUrl, found.credential, extensionCommand);
  }

  return { getRequestHandler, getWebApi, getAuthorizationHeader };
}

module.exports = { forAddon, findNodeApi, JS_ERROR_CODES };
