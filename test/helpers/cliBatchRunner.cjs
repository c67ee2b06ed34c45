'use strict';
// Runs a list of genrep CLI invocations in one Node process (the built CLI in dist/), one after the other, and
// appends one JSON line per invocation to the results file as it finishes, then the process's peak RSS. A crash
// (SIGSEGV, V8 out of memory) therefore still tells the parent which invocation was running.
// Usage: node cliBatchRunner.cjs <invocations.json> <results.jsonl>
const fs = require('node:fs');
const path = require('node:path');

const [invocationsFile, resultsFile] = process.argv.slice(2);
const invocations = JSON.parse(fs.readFileSync(invocationsFile, 'utf8'));
const { main } = require(path.resolve(__dirname, '..', '..', 'dist', 'worker', 'cli', 'main.js'));

const append = (record) => fs.appendFileSync(resultsFile, `${JSON.stringify(record)}\n`);

// This process's own peak RSS. getrusage's maxRSS is not it: Linux carries the parent's peak across fork and exec,
// so a child of a test process holding 400 MB reports 400 MB whatever it does. VmHWM is this image's own.
function peakRssMb() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // no procfs (macOS): fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function run() {
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  for (let i = 0; i < invocations.length; i++) {
    append({ started: i });
    let stdout = '';
    let stderr = '';
    process.stdout.write = (chunk) => {
      stdout += String(chunk);
      return true;
    };
    process.stderr.write = (chunk) => {
      stderr += String(chunk);
      return true;
    };
    const t0 = process.hrtime.bigint();
    let code;
    try {
      code = await main(['node', 'genrep', ...invocations[i]]);
    } catch (err) {
      code = -1;
      stderr += `runner: main threw: ${err && err.stack ? err.stack : String(err)}\n`;
    } finally {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    append({ index: i, code, stdout: stdout.slice(0, 20000), stderr: stderr.slice(0, 20000), ms });
  }
  append({ maxRssMb: peakRssMb() });
}

run().then(
  () => process.exit(0),
  (err) => {
    append({ fatal: String(err && err.stack ? err.stack : err) });
    process.exit(3);
  },
);
