// The whole-suite leak scan, run by scripts/test.sh after every suite: no secret
// any test made (helpers.makeSecret appends each to TFX_TEST_SECRETS_LOG) appears
// in any file the suites left under the run's TMPDIR or in any captured output.
// Allowed by design: the file store itself (tfx-auth/credentials.json) and the
// homes of stock tfx-cli runs (folders named *stock*), which store plaintext.
//   node __test__/leak-scan.mjs <secrets-log> <dir-or-file>...
import { readFileSync, existsSync } from 'node:fs';
import { sep } from 'node:path';
import { filesUnder } from './helpers.mjs';

const [secretsLog, ...targets] = process.argv.slice(2);
const secrets = existsSync(secretsLog) ? [...new Set(readFileSync(secretsLog, 'utf8').split('\n').filter(Boolean))] : [];
const allowed = (file) => file.endsWith(`${sep}tfx-auth${sep}credentials.json`) || file.split(sep).some((part) => part.includes('stock'));

const files = targets.flatMap((t) => (existsSync(t) && !t.endsWith('.log') ? filesUnder(t) : [t])).filter((f) => existsSync(f));
const leaks = [];
let scanned = 0;
for (const file of files) {
  if (allowed(file) || file === secretsLog) continue;
  scanned++;
  const content = readFileSync(file);
  for (const secret of secrets) if (content.includes(secret)) leaks.push(`${file} holds a secret`);
}
console.log(`leak scan: ${secrets.length} secrets, ${scanned} files and logs, ${leaks.length} leaks`);
for (const leak of leaks) console.log(`  ${leak}`);
process.exit(leaks.length === 0 && secrets.length > 0 ? 0 : 1);
