'use strict';
// `require('tfx-auth')` and `import ... from 'tfx-auth'`: the addon through the loader that
// `napi build` generates (index.js), which picks this platform's prebuilt package
// (@tfx-auth/binding-<platform>), a source build beside it, or NAPI_RS_NATIVE_LIBRARY_PATH.
// When none loads, the error names the platform, the package and what to do, instead of the
// loader's bare "Cannot find native binding". (`module.exports = require(...)` is kept as one
// statement so Node sees the named exports of index.js for ESM imports.)
try {
  module.exports = require('./index.js');
} catch (error) {
  throw require('./scripts/platform.js').addonError(error);
}
