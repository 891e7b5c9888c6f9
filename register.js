'use strict';
// `node -r tfx-auth/register` or NODE_OPTIONS="--require tfx-auth/register": installs the
// tfx-auth hook, so a stock `tfx` (tfx-cli) started in this process keeps its logins in the OS
// keyring, and its `tfx login` / `tfx logout` skip loading tfx-cli where no prompt is needed.
// The addon loads only when a command first needs it.
// First: a stock tfx's secret arguments (--token X) out of `ps` (tfx/secret-arguments.js); other
// Node programs under the same NODE_OPTIONS keep their command lines.
if (/(^|[\\/])(tfx|tfx-cli\.js)$/.test(process.argv[1] || '')) require('./tfx/secret-arguments').hideSecretArguments();
require('./tfx/hook').install({ fastPath: true });
