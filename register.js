'use strict';
// `node -r tfx-auth/register` or NODE_OPTIONS="--require tfx-auth/register": installs the
// tfx-auth hook, so a stock `tfx` (tfx-cli) started in this process keeps its logins in the OS
// keyring. The addon loads only when a command first needs a credential.
require('./tfx/hook').install();
