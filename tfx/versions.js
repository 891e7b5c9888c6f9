'use strict';
// The tfx-cli releases whose internals the hook and the fast path were checked against
// (see TFX-INTERNALS.md). The fast path reproduces their output, so it runs only for these.
module.exports = { SUPPORTED_TFX_VERSIONS: ['0.23.1'] };
