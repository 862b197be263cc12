// rock's harness: runs the user's code, calls main(arguments) when it defines one
// (awaiting a promise), and hands the return value back on the result channel (a file
// descriptor rock holds the other end of, or a file rock reads afterwards), apart from output.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const [givenCodePath, argsPath, result, gateFd] = process.argv.slice(2);
let codePath = givenCodePath;
let request = null;
if (gateFd !== undefined) {
  // Wait for the go-ahead: "g" once rock has moved this process into its cgroup, or "r"
  // and a request (a warm sandbox, started before its code was known).
  const gate = Number(gateFd);
  const go = Buffer.alloc(1);
  const got = fs.readSync(gate, go, 0, 1, null);
  if (got === 1 && go[0] === 0x72) {
    const chunks = [];
    const chunk = Buffer.alloc(1 << 16);
    for (;;) {
      const n = fs.readSync(gate, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } else if (got !== 1 || go[0] !== 0x67) {
    process.exit(125);
  }
  fs.closeSync(gate);
}
if (request !== null) {
  codePath = path.join(path.dirname(givenCodePath), request.file);
  fs.writeFileSync(codePath, request.code);
}
const RESULT_FD = /^[0-9]+$/.test(result) ? Number(result) : fs.openSync(result, 'w');
const MAIN = Symbol.for('rock.main');
process.argv = [process.argv[0], codePath];

// One message a line: the outcome of main, then the artifacts (at exit).
function send(message) {
  const data = Buffer.from(`${JSON.stringify(message)}\n`);
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(RESULT_FD, data, offset);
}

// What the program left in ./artifacts/ beside its code; rock decides what to keep.
process.on('exit', () => {
  const folder = path.join(path.dirname(codePath), 'artifacts');
  let names;
  try {
    names = fs.readdirSync(folder).sort().slice(0, 32);
  } catch (err) {
    return;
  }
  const files = names.map((name) => {
    const entry = { name };
    try {
      const info = fs.lstatSync(path.join(folder, name));
      entry.size = info.size;
      if (info.isFile() && info.size <= 10 * 1024 * 1024) {
        entry.content_b64 = fs.readFileSync(path.join(folder, name)).toString('base64');
      }
    } catch (err) {
      // Gone or unreadable: sent without content.
    }
    return entry;
  });
  try {
    send({ kind: 'artifacts', files });
  } catch (err) {
    // The result channel is gone: nothing to tell.
  }
});

// V8 raises this when memory outside its heap (a Buffer, an ArrayBuffer) can't be had.
function outOfMemory(err) {
  return err instanceof RangeError && /allocation failed/i.test(err.message);
}

function report(err) {
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  if (outOfMemory(err)) {
    send({ kind: 'limit', limit: 'memory' });
    process.exit(137);
  }
}

// Stack traces show the user's frames, not the harness's or the loader's beneath them.
Error.prepareStackTrace = (err, frames) => {
  const own = (f) => f.getFileName() === __filename;
  const internal = (f) => !f.getFileName() || f.getFileName().startsWith('node:internal');
  const theirs = frames.filter((f) => !own(f));
  let kept = theirs;
  while (kept.length > 0 && internal(kept[kept.length - 1])) kept = kept.slice(0, -1);
  // An error raised by the loader itself (a syntax error) keeps the loader's frames.
  if (kept.length === 0) kept = theirs.slice(0, 2);
  const head = err.message ? `${err.name || 'Error'}: ${err.message}` : `${err.name || 'Error'}`;
  return [head, ...kept.map((f) => `    at ${f}`)].join('\n');
};

const raw = request === null ? fs.readFileSync(argsPath, 'utf8') : '';
const args = request === null ? (raw ? JSON.parse(raw) : null) : (request.arguments ?? null);

function loadCommonJs() {
  const source = fs.readFileSync(codePath, 'utf8');
  const mod = new Module(codePath, null);
  mod.filename = codePath;
  mod.paths = Module._nodeModulePaths(path.dirname(codePath));
  require.cache[codePath] = mod;
  // Appended, so line numbers stay the user's; reads `main` from the module's own scope.
  const probe = `\n;globalThis[Symbol.for('rock.main')] = typeof main === 'function' ? main : undefined;`;
  mod._compile(source.replace(/^#!.*/, '') + probe, codePath);
  const found = globalThis[MAIN];
  delete globalThis[MAIN];
  if (found) return found;
  const exported = mod.exports;
  if (exported && typeof exported.main === 'function') return exported.main;
  return undefined;
}

async function loadModule() {
  const url = require('url').pathToFileURL(codePath).href;
  const mod = await import(url);
  if (typeof mod.main === 'function') return mod.main;
  if (typeof mod.default === 'function') return mod.default;
  return undefined;
}

async function callMain(main) {
  if (!main) {
    if (args && Object.keys(args).length > 0) {
      send({ kind: 'no_main' });
      process.exitCode = 2;
    }
    return;
  }
  let value;
  try {
    value = await main(args || {});
  } catch (err) {
    report(err);
    process.exitCode = 1;
    return;
  }
  try {
    send({ kind: 'result', value: value === undefined ? null : value });
  } catch (err) {
    process.stderr.write(`main() returned a value that is not JSON-serializable: ${err.message}\n`);
    send({ kind: 'not_serializable' });
    process.exitCode = 1;
  }
}

if (codePath.endsWith('.mjs')) {
  loadModule().then(callMain, (err) => {
    report(err);
    process.exitCode = 1;
  });
} else {
  // Loaded synchronously and not caught: Node itself reports an error of the module's top
  // level (a syntax error with its caret), pointing at the user's line. Only running out of
  // memory is the harness's business there.
  process.on('uncaughtExceptionMonitor', (err) => {
    if (outOfMemory(err)) report(err);
  });
  callMain(loadCommonJs());
}
