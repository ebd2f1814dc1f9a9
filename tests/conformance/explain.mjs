// Why a scenario failed, for run.sh: the suite's failed checks and warnings (checks.json), the
// binary's error line (its stderr) and exit code (the suite's own output).
// Usage: node explain.mjs CHECKS_JSON STDERR_TXT SUITE_TXT (a missing file is skipped)
import fs from 'node:fs';

const [checks, stderr, suite] = process.argv.slice(2)
  .map((f) => (f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : ''));
for (const c of checks ? JSON.parse(checks) : []) {
  if (c.status === 'FAILURE' || c.status === 'WARNING') {
    console.log(`     ${c.status} ${c.id}: ${c.errorMessage ?? c.description}`);
  }
}
for (const line of stderr.split('\n').filter((l) => l.startsWith('error:'))) {
  console.log(`     binary: ${line.slice(0, 400)}`);
}
const exited = suite.match(/CLIENT EXITED WITH ERROR \(code (\d+)\)/);
if (exited) console.log(`     binary exit code ${exited[1]}`);
