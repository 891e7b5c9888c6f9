'use strict';
// `node -r tfx-auth/register` or NODE_OPTIONS="--require tfx-auth/register": installs the
// tfx-auth hook, so a stock `tfx` (tfx-cli) started in this process keeps its logins in the OS
// keyring, and its `tfx login` / `tfx logout` skip loading tfx-cli where no prompt is needed.
// The addon loads only when a command first needs it.
require('./tfx/hook').install({ fastPath: true });
