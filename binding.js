'use strict';
// `require('tfx-auth')` and `import ... from 'tfx-auth'`: the addon through the loader that
// `napi build` generates (index.js), which picks this platform's prebuilt package
// (@tfx-auth/binding-<platform>), a source build beside it, or NAPI_RS_NATIVE_LIBRARY_PATH.
// When none loads, the error names the platform, the package and what to do, instead of the
// loader's bare "Cannot find native binding".
//
// Every function checks its arguments' types here first, so a wrong type is an Error with code
// INVALID_ARGUMENT (never napi's own StringExpected/InvalidArg, nor a bare TypeError): the
// functions returning a promise reject with it, the sync ones (normalizeServiceUrl,
// storageInfo, accessTokenInfo, warmUp, getCredentialNow, authorizationHeader, proxyFor) throw it. Values (timeoutMs' range, URLs, credentials)
// are checked by the core. Objects are copied field by field, so a getter cannot hand the
// native side another type than the one checked. Each export is an `exports.name = ...`
// assignment so Node's ESM named-export detection (cjs-module-lexer) sees it.

// The generated loader requires process.env.NAPI_RS_NATIVE_LIBRARY_PATH when set, and
// process.env inherits from Object.prototype: a polluted prototype must not choose the library.
// An own empty value shadows an inherited one while the loader runs (it skips an empty path).
const LIBRARY_PATH = 'NAPI_RS_NATIVE_LIBRARY_PATH';
const shadowed = !Object.hasOwn(process.env, LIBRARY_PATH) && process.env[LIBRARY_PATH] !== undefined;
if (shadowed) process.env[LIBRARY_PATH] = '';

let native;
try {
  native = require('./index.js');
} catch (error) {
  throw require('./scripts/platform.js').addonError(error);
} finally {
  if (shadowed) delete process.env[LIBRARY_PATH];
}

function invalid(message) {
  const error = new Error(`invalid argument: ${message}`);
  error.code = 'INVALID_ARGUMENT';
  return error;
}

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const absent = (v) => v === undefined || v === null;
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

// A check is `(name) => (value) => value to pass on`, throwing INVALID_ARGUMENT.
const string = (name) => (v) => {
  if (typeof v !== 'string') throw invalid(`${name} must be a string, not ${kind(v)}`);
  return v;
};
const boolean = (name) => (v) => {
  if (typeof v !== 'boolean') throw invalid(`${name} must be true or false, not ${kind(v)}`);
  return v;
};
const number = (name) => (v) => {
  if (typeof v !== 'number') throw invalid(`${name} must be a number, not ${kind(v)}`);
  return v;
};
const strings = (name) => (v) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalid(`${name} must be an array of strings`);
  return [...v];
};
const abortSignal = (name) => (v) => {
  if (!isObject(v) || typeof v.addEventListener !== 'function' || typeof v.aborted !== 'boolean') {
    throw invalid(`${name} must be an AbortSignal`);
  }
  return v; // as is: the addon listens on it with addEventListener
};
const optional = (check) => (name) => (v) => (absent(v) ? undefined : check(name)(v));

/**
 * The caller's own `field`, never one inherited: a package that sets
 * `Object.prototype.skipCertValidation` or `.proxy` must not choose options for this call.
 */
const ownOption = (v, field) => (Object.hasOwn(v, field) ? v[field] : undefined);

/**
 * An object with only the given fields, each checked; absent ones stay absent. It has no
 * prototype, because napi looks a field up along the prototype chain: the native side sees only
 * what is copied here.
 */
const object = (fields) => (name) => (v) => {
  if (!isObject(v)) throw invalid(`${name} must be an object, not ${kind(v)}`);
  const copy = Object.create(null);
  for (const [field, check] of Object.entries(fields)) {
    const value = optional(check)(`${name}.${field}`)(ownOption(v, field));
    if (value !== undefined) copy[field] = value;
  }
  return copy;
};

const CREDENTIAL = { type: string, token: string, username: string, password: string, accessToken: string, expiresOn: number };
const CONNECT = { proxy: string, caCertificates: strings, skipCertValidation: boolean, timeoutMs: number, signal: abortSignal };
const ENTRA = { authority: string, tenant: string, clientId: string };
const FLAGS = { token: string, username: string, password: string, skipCertValidation: boolean };

function checked(args, checks) {
  return checks.map(([name, check], i) => check(name)(args[i]));
}

/** A sync function: a wrong argument throws. */
function sync(fn, ...checks) {
  return function tfxAuthSync(...args) {
    return fn(...checked(args, checks));
  };
}

/** A promise-returning function: a wrong argument (or any synchronous throw) rejects. */
function promise(fn, ...checks) {
  return function tfxAuthAsync(...args) {
    try {
      return fn.apply(this, checked(args, checks));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

const url = ['serviceUrl', string];
const optionalUrl = ['serviceUrl', optional(string)];
const cred = ['credential', object(CREDENTIAL)];
const connect = ['options', optional(object(CONNECT))];

exports.accessTokenInfo = sync(native.accessTokenInfo, ['accessToken', string]);
exports.authorizationHeader = sync(native.authorizationHeader, url, cred, ['options', optional(object({ extensionCommand: boolean }))]);
exports.ciCredentialSource = sync(native.ciCredentialSource);
exports.deleteCredential = promise(native.deleteCredential, url);
exports.getAzureCliToken = promise(native.getAzureCliToken, optionalUrl);
// The first getCredential in a stretch of synchronous code may be answered on this thread, as a
// synchronous binding would (a warm keyring read, at most 250 ms; no thread hop: BENCHMARKS.md);
// calls made together with it (Promise.all) go to the addon's threads and run concurrently.
let answeredHere = false;
function getCredential(serviceUrl) {
  if (!answeredHere) {
    answeredHere = true;
    queueMicrotask(() => { answeredHere = false; });
    const credential = native.getCredentialNow(serviceUrl);
    if (credential) return Promise.resolve(credential);
  }
  return native.getCredential(serviceUrl);
}
exports.getCredential = promise(getCredential, url);
exports.getCredentialNow = sync(native.getCredentialNow, url);
exports.getDefaultServiceUrl = promise(native.getDefaultServiceUrl);
exports.getSkipCertValidation = promise(native.getSkipCertValidation, url);
exports.listLogins = promise(native.listLogins);
exports.login = promise(native.login, url, cred, connect);
exports.logout = promise(native.logout, optionalUrl);
exports.logoutAll = promise(native.logoutAll);
exports.migrateLegacyLogins = promise(native.migrateLegacyLogins);
exports.normalizeServiceUrl = sync(native.normalizeServiceUrl, url);
exports.proxyFor = sync(native.proxyFor, url);
exports.resolveCredential = promise(native.resolveCredential, optionalUrl, ['flags', optional(object(FLAGS))]);
exports.setSkipCertValidation = promise(native.setSkipCertValidation, url, ['skip', boolean]);
exports.startEntraLogin = promise(native.startEntraLogin, url, ['options', optional(object({ ...CONNECT, ...ENTRA }))]);
exports.storageInfo = sync(native.storageInfo);
exports.storeCredential = promise(native.storeCredential, url, cred);
exports.validateConnection = promise(native.validateConnection, url, cred, connect);
exports.warmUp = sync(native.warmUp, optionalUrl);

// EntraSignIn objects come from startEntraLogin; their complete() takes { signal }.
const { prototype } = native.EntraSignIn;
if (!prototype.complete.tfxAuthChecked) {
  prototype.complete = Object.assign(promise(prototype.complete, ['options', optional(object({ signal: abortSignal }))]),
    { tfxAuthChecked: true });
}
exports.EntraSignIn = native.EntraSignIn;

// Node scripts reusing the login (script-api.js), built on the checked exports above; loaded on
// first use, so `tfx login`'s fast path and `tfx-auth` never load it (nor node:https).
let scripts;
const script = (name) => function tfxAuthScript(...args) {
  if (!scripts) scripts = require('./script-api.js').forAddon(exports);
  return scripts[name](...args);
};
exports.getAuthorizationHeader = script('getAuthorizationHeader');
exports.getRequestHandler = script('getRequestHandler');
exports.getWebApi = script('getWebApi');
exports.__napiBindingTarget = native.__napiBindingTarget;
