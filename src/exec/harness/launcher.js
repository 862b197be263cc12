// rock's launcher in JavaScript, for sandboxes that have Node.js but no Python (a container
// of a Node image): the same job as launcher.py. It writes the run's files into a directory of
// their own, runs the harness there as a child with a time limit, relays its output as it
// comes (cut at the output cap), then prints what the harness said on its result file, and
// how the child ended, on marker lines "\x1e__rock_<nonce>__ <json>\n". The nonce lives in
// this process only: the child never sees it.
'use strict';

function _rockLaunch(encoded) {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { spawn } = require('child_process');

  const spec = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  const marker = `\x1e__rock_${spec.nonce}__ `;
  delete spec.nonce;
  const say = (message) => fs.writeSync(1, `${marker}${JSON.stringify(message)}\n`);

  // The sandbox's own cgroup, where it can see it (v2, then v1): how many times its memory
  // limit killed a process.
  const oomKills = () => {
    for (const file of ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control']) {
      try {
        const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('oom_kill '));
        if (line) return Number(line.split(' ')[1]);
      } catch (err) {
        // Not this cgroup version.
      }
    }
    return null;
  };
  const killsBefore = oomKills();

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'rock-run-'));
  const cleanUp = () => fs.rmSync(folder, { recursive: true, force: true });
  for (const [name, content] of Object.entries(spec.files)) {
    fs.writeFileSync(path.join(folder, name), Buffer.from(content, 'base64'));
  }
  const resultPath = path.join(folder, '.result');
  fs.writeFileSync(resultPath, '');
  let stdin = 'ignore';
  if (spec.stdin !== null && spec.stdin !== undefined) {
    const stdinPath = path.join(folder, '.stdin');
    fs.writeFileSync(stdinPath, Buffer.from(spec.stdin, 'base64'));
    stdin = fs.openSync(stdinPath, 'r');
  }
  const interpreter = spec.language === 'nodejs' ? process.execPath : spec.interpreter;
  const argv = [
    ...spec.flags,
    path.join(folder, spec.harness),
    path.join(folder, spec.code),
    path.join(folder, 'args.json'),
    resultPath,
  ];
  const started = process.hrtime.bigint();
  const child = spawn(interpreter, argv, {
    cwd: folder,
    stdio: [stdin, 'pipe', 'pipe'],
    detached: true,
  });
  const cut = new Set();
  const relay = (source, fd, name) => {
    let sent = 0;
    source.on('data', (chunk) => {
      if (sent >= spec.output_cap) {
        cut.add(name);
        return;
      }
      if (sent + chunk.length > spec.output_cap) {
        chunk = chunk.subarray(0, spec.output_cap - sent);
        cut.add(name);
      }
      sent += chunk.length;
      fs.writeSync(fd, chunk);
    });
  };
  relay(child.stdout, 1, 'stdout');
  relay(child.stderr, 2, 'stderr');
  let timedOut = false;
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (err) {
      // The group is gone already.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, spec.timeout * 1000);
  child.on('error', (err) => {
    clearTimeout(timer);
    say({ kind: 'ended', spawn_error: err.message, errno: err.code === 'ENOENT' ? 2 : 13 });
    cleanUp();
  });
  let elapsed = 0;
  child.on('exit', () => {
    clearTimeout(timer);
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    // Whatever the program left running in its group ends with it (and lets go of the pipes).
    killGroup();
  });
  child.on('close', (code, signal) => {
    for (const line of fs.readFileSync(resultPath, 'utf8').split('\n')) {
      try {
        if (line) say(JSON.parse(line));
      } catch (err) {
        // Not a message of the harness.
      }
    }
    const signals = require('os').constants.signals;
    say({
      kind: 'ended',
      exit_code: signal ? null : code,
      signal: signal ? signals[signal] : null,
      timed_out: timedOut,
      elapsed,
      truncated: [...cut].sort(),
      oom_killed: killsBefore !== null && (oomKills() || 0) > killsBefore,
    });
    cleanUp();
  });
}
