'use strict';
// The tfx-cli 0.23.1 modules the hook rewires, one patcher per module. Each first checks that the
// module has the shape this file relies on and throws ShapeError otherwise; hook.js turns that
// into a stop with the supported versions, so the plaintext store never runs unnoticed.
// Call sites in tfx-cli read module exports at call time (`credstore_1.getCredentialStore(...)`,
// `new diskcache_1.DiskCache(...)`), so replacing export properties after load takes effect.

const Module = require('node:module');
const actions = require('./actions');
const { createRequestHandler } = require('../request-handler');
const { loginCredential, isEntra, toWire, fromWire, DEVICE_CODE } = require('./credential');
const { withoutSavedSecrets } = require('./saved-options');

class ShapeError extends Error {}

function expectFunctions(obj, names, what) {
  for (const name of names) {
    if (!obj || typeof obj[name] !== 'function') throw new ShapeError(`${what}.${name} is not a function`);
  }
}

// TfCommand instances must carry these Argument objects (tfcommand.js setCommandArgs).
const NEEDED_ARGS = ['authType', 'serviceUrl', 'password', 'token', 'username', 'skipCertValidation', 'proxy', 'fiddler'];

function commandArgs(command) {
  const args = command.commandArgs;
  for (const name of NEEDED_ARGS) {
    if (!args || !args[name] || typeof args[name].val !== 'function') {
      throw new ShapeError(`commandArgs.${name} has no val()`);
    }
  }
  return args;
}

const STORED = Symbol('tfx-auth stored credentials');
const LOGOUT = Symbol('tfx-auth logout result');

// One resolution per command and URL: extension commands ask twice (getWebApi, getGalleryApi),
// and asking the Azure CLI costs ~1 s of Python.
const RESOLVED = Symbol('tfx-auth resolved credentials');
function resolvedCredential(command, addon, serviceUrl, flags) {
  const memo = command[RESOLVED] || (command[RESOLVED] = new Map());
  const key = String(serviceUrl).replace(/\/+$/, '');
  if (!memo.has(key)) memo.set(key, actions.resolveCredential(addon(), String(serviceUrl), flags));
  return memo.get(key);
}

// tfcommand.js getCredentials' prompt branch: tfx's own Argument prompts (hidden for the token
// and password) and its `--no-prompt` message ("Missing required value for argument 'token'.").
// An Entra sign-in is not a prompt: it is `tfx login --auth-type entra`.
async function promptCredential(args, authType, serviceUrl) {
  if (isEntra(authType)) {
    const url = actions.displayUrl(String(serviceUrl));
    throw Object.assign(new Error(`Not signed in to ${url} with Microsoft Entra ID. Run: tfx login --service-url ${url} --auth-type entra`), { code: 'NOT_LOGGED_IN' });
  }
  switch (String(authType).toLowerCase()) {
    case 'pat':
      return { type: 'pat', token: await args.token.val() };
    case 'basic': {
      const username = await args.username.val();
      const password = await args.password.val();
      return { type: 'basic', username, password };
    }
    default:
      throw new Error("Unsupported auth type. Currently, 'pat', 'basic' and 'entra' auth are supported.");
  }
}

async function flagValues(args) {
  const [authType, token, username, password] = await Promise.all([
    args.authType.val(), args.token.val(true), args.username.val(true), args.password.val(true),
  ]);
  return { authType, token, username, password };
}

// lib/credstore.js: the store object keeps tfx's interface; every call goes to the addon.
function patchCredstore(exports, ctx) {
  expectFunctions(exports, ['getCredentialStore'], 'exports');
  const store = {
    async credentialExists(service) {
      return (await ctx.addon().getCredential(service)) !== null;
    },
    async getCredential(service) {
      const cred = await ctx.addon().getCredential(service);
      if (!cred) throw Object.assign(new Error(`Not logged in to ${actions.displayUrl(service)}.`), { code: 'NOT_LOGGED_IN' });
      return toWire(cred);
    },
    async storeCredential(service, _user, password) {
      const cred = fromWire(password);
      if (!cred) throw Object.assign(new Error('Unrecognised credential format.'), { code: 'INVALID_CREDENTIAL' });
      await ctx.addon().storeCredential(service, cred);
    },
    async clearCredential(service) {
      await ctx.addon().deleteCredential(service);
    },
  };
  exports.getCredentialStore = function getCredentialStore(appName) {
    return Object.assign(Object.create(store), { appName });
  };
}

// lib/diskcache.js: the cached connection and certificate flag live in the addon's settings;
// keep them off disk. Everything else (command-options from --save) stays tfx's file.
const ADDON_ITEMS = new Set(['connection', 'skipCertValidation']);

function patchDiskcache(exports) {
  const Base = exports.DiskCache;
  expectFunctions(Base && Base.prototype, ['itemExists', 'getItem', 'setItem', 'deleteItem'], 'DiskCache.prototype');
  const ours = (store, name) => store === 'cache' && ADDON_ITEMS.has(name);
  class DiskCache extends Base {
    itemExists(store, name) {
      return ours(store, name) ? Promise.resolve(false) : super.itemExists(store, name);
    }
    getItem(store, name) {
      if (!ours(store, name)) return super.getItem(store, name);
      return Promise.reject(Object.assign(new Error(`tfx-auth keeps ${name} in its settings`), { code: 'ENOENT' }));
    }
    setItem(store, name, data) {
      return ours(store, name) ? Promise.resolve(null) : super.setItem(store, name, data);
    }
    deleteItem(store, name) {
      return ours(store, name) ? Promise.resolve(null) : super.deleteItem(store, name);
    }
  }
  exports.DiskCache = withoutSavedSecrets(DiskCache); // --save writes no secret
}

// lib/tfcommand.js: where every server command gets its URL, credential and WebApi.
function patchTfcommand(exports, ctx, filename) {
  const TfCommand = exports.TfCommand;
  const proto = TfCommand && TfCommand.prototype;
  expectFunctions(proto, ['getCredentials', 'getWebApi', 'initialize', 'run', 'output'], 'TfCommand.prototype');
  // The same azure-devops-node-api copy tfx-cli uses (already loaded by tfcommand.js).
  const localRequire = Module.createRequire(filename);
  const webApiModule = localRequire('azure-devops-node-api/WebApi');
  expectFunctions(webApiModule, ['WebApi'], 'azure-devops-node-api/WebApi');
  // app.js sets common.EXEC_PATH (['extension', 'show'], ...) before the command runs.
  const common = localRequire('./common');
  const isExtensionCommand = () => Array.isArray(common.EXEC_PATH) && common.EXEC_PATH[0] === 'extension';
  const { TfsConnection } = localRequire('./connection');
  expectFunctions({ TfsConnection }, ['TfsConnection'], 'lib/connection.js exports');

  // tfx-auth's handler, not node-api's getBasicHandler/getBearerHandler: those send the credential
  // to whatever host a redirect or the server's location data names (request-handler.js). The
  // wire form is the addon's: an Entra token goes to every `tfx extension` command as Basic.
  const handlerFor = (serviceUrl, cred, resolveAgain) => createRequestHandler(ctx.addon(), serviceUrl, cred,
    { extensionCommand: isExtensionCommand(), resolveAgain });

  // useCredStore is ignored on purpose: its only `false` callers are Login.exec (replaced below)
  // and ExtensionBase.getGalleryApi, which is exactly the re-prompt of tfs-cli issue 455.
  // Which credential, from where: the addon's resolveCredential (flags, environment, stored
  // login, Azure CLI); tfx's own prompts when none has one.
  proto.getCredentials = async function getCredentials(serviceUrl) {
    actions.checkServiceUrl(ctx.addon(), serviceUrl);
    const args = commandArgs(this);
    const flags = await flagValues(args);
    const resolved = await resolvedCredential(this, ctx.addon, serviceUrl, flags);
    const cred = resolved ? resolved.credential : await promptCredential(args, flags.authType, serviceUrl);
    // On a 401, or ahead of an Entra token's expiry: the same resolve again (never a prompt).
    const resolveAgain = resolved
      ? async () => ((await actions.resolveCredential(ctx.addon(), String(serviceUrl), flags)) || {}).credential
      : null;
    return handlerFor(serviceUrl, cred, resolveAgain);
  };

  proto.getWebApi = async function getWebApi(options) {
    const args = commandArgs(this);
    // Stock does this in initialize() from ~/.tfx/cache/.connection for every command; here it
    // happens only for server commands, so `tfx version` never loads the addon.
    if (!(await args.serviceUrl.val(true)) && !process.env.TFX_BYPASS_CACHE) {
      const url = await actions.defaultServiceUrl(ctx.addon());
      if (url) args.serviceUrl.setValue(url);
    }
    const serviceUrl = await args.serviceUrl.val();
    const handler = await this.getCredentials(serviceUrl);
    const skip = (options && options.ignoreSslError === true)
      || (await args.skipCertValidation.val(true)) === true
      || (await ctx.addon().getSkipCertValidation(serviceUrl)) === true;
    const url = serviceUrl.replace(/(?<=[^/])\/+$/, ''); // tfx rejects a trailing slash
    this.connection = new TfsConnection(url);
    this.webApi = new webApiModule.WebApi(url, handler, { ...options, ignoreSslError: skip });
    return this.webApi;
  };
}

// exec/login.js: one round trip through the addon instead of two requests plus plaintext files.
function patchLogin(exports, ctx, filename) {
  expectFunctions(exports, ['getCommand'], 'exports');
  const { TfsConnection } = Module.createRequire(filename)('../lib/connection');
  expectFunctions({ TfsConnection }, ['TfsConnection'], 'lib/connection.js exports');
  const proto = exports.Login && exports.Login.prototype;
  expectFunctions(proto, ['exec', 'friendlyOutput'], 'Login.prototype');
  // Stock initialize() builds a WebApi (and reads the store) before exec; login needs neither.
  proto.getWebApi = async function getWebApi() {
    return null;
  };
  proto.exec = async function exec() {
    const args = commandArgs(this);
    const serviceUrl = actions.checkServiceUrl(ctx.addon(), await args.serviceUrl.val()); // "> Service URL:" prompt
    const skipCertValidation = (await args.skipCertValidation.val(false)) === true;
    const flags = await flagValues(args);
    // A login asks for a new credential: never the stored one (as stock).
    const cred = loginCredential(flags) || await promptCredential(args, flags.authType, serviceUrl);
    const proxy = actions.proxyOption({ proxy: await args.proxy.val(true), fiddler: await args.fiddler.val(true) });
    const options = { skipCertValidation, proxy, TfsConnection };
    if (cred === DEVICE_CODE) await actions.loginEntra(ctx.addon(), serviceUrl, options);
    else await actions.login(ctx.addon(), serviceUrl, cred, options);
    return { success: true }; // stock friendlyOutput / jsonOutput print it
  };
}

// exec/logout.js (its class is also called Reset): remove the login, its cert flag and the
// default, and report what happened. Stock printed before deleting and deleted in dispose().
function patchLogout(exports, ctx, filename) {
  expectFunctions(exports, ['getCommand'], 'exports');
  const proto = exports.Reset && exports.Reset.prototype;
  expectFunctions(proto, ['exec', 'dispose', 'friendlyOutput'], 'Reset.prototype');
  const trace = Module.createRequire(filename)('../lib/trace');
  expectFunctions(trace, ['success'], 'lib/trace.js exports');
  proto.exec = async function exec() {
    const serviceUrl = await commandArgs(this).serviceUrl.val(true);
    this[LOGOUT] = await actions.logout(ctx.addon(), serviceUrl);
    return null; // --json prints `null`, as stock
  };
  proto.dispose = async function dispose() {
    return null;
  };
  proto.friendlyOutput = function friendlyOutput() {
    const result = this[LOGOUT];
    if (result.removed) trace.success(actions.logoutMessage(result));
    else console.log(actions.logoutMessage(result));
  };
}

// exec/extension/default.js: getGalleryApi must reach the stored login through getCredentials.
function checkExtensionBase(exports) {
  const proto = exports.ExtensionBase && exports.ExtensionBase.prototype;
  expectFunctions(proto, ['getGalleryApi'], 'ExtensionBase.prototype');
  if (!/this\.getCredentials\(/.test(Function.prototype.toString.call(proto.getGalleryApi))) {
    throw new ShapeError('ExtensionBase.prototype.getGalleryApi no longer calls getCredentials');
  }
}

// Relative to tfx-cli's _build folder.
const PATCHERS = {
  'lib/credstore.js': patchCredstore,
  'lib/diskcache.js': patchDiskcache,
  'lib/tfcommand.js': patchTfcommand,
  'exec/login.js': patchLogin,
  'exec/logout.js': patchLogout,
  'exec/extension/default.js': checkExtensionBase,
};

module.exports = { PATCHERS, ShapeError };
