'use strict';
// Reading a file of tfx-cli's under ~/.tfx (issue 18, item 5): whatever sits at the path is not
// trusted. Opened without following a link and without blocking (a FIFO would wait for a writer
// forever), and only a regular file of this user's, no larger than the cap, is read; anything
// else reads as absent. The addon reads its own and tfx-cli's files the same way (src/fsutil.rs).

const fs = require('node:fs');

/** The most any of tfx-cli's cache files holds (saved options are a few hundred bytes). */
const MAX_BYTES = 1024 * 1024;

// O_NOFOLLOW and O_NONBLOCK do not exist on Windows, where a named pipe is no file in a folder.
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;

/** The text of `file`, or null when it is missing or not a small regular file of this user's. */
function readOwnFile(file, maxBytes = MAX_BYTES) {
  let fd;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return null; // missing, or a link (ELOOP)
  }
  try {
    const stat = fs.fstatSync(fd);
    const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    if (!stat.isFile() || !mine || stat.size > maxBytes) return null;
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let n; length <= maxBytes && (n = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0;) length += n;
    return length > maxBytes ? null : buffer.toString('utf8', 0, length);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

module.exports = { readOwnFile, MAX_BYTES };
