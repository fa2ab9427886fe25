'use strict';
// edgeguard's Lambda@Edge runner: one Node.js process that loads one handler and runs one
// invocation at a time, like a Lambda instance. node_pool.cc starts it as
//   node --max-old-space-size=<mb> -e <this script> -- <file> <handler> <function name>
//        <memory mb> <max result bytes> <display root>
// This text is compiled into the edgeguard binary (CMake embeds it), so nothing has to be found
// on disk at run time. The gateway speaks to it over two pipes, in frames that start with a
// little-endian uint32 length of the rest of the frame:
//   fd 3, gateway → runner: [len][uint32 timeout ms][uint8 id length][request id][event JSON]
//   fd 4, runner → gateway: [len][uint8 type][payload], type one of
//     R ready (handler loaded)      X load error (payload: the message)
//     L one console line           O result (payload: JSON text)     U the handler returned undefined
//     E exception (payload: "threw TypeError: ... (at fns/a.js:3:7)")
//     C uncaught error during an invocation (payload: text; the process exits next)
//     T result over the size limit (payload: its size in bytes)
// fd 1 and 2 go to a diagnostics pipe (node's own fatal errors such as heap exhaustion); all
// output from JavaScript (console.*, process.stdout/stderr.write) becomes log lines instead.
const fs = require('fs');
const net = require('net');
const path = require('path');
const url = require('url');
const util = require('util');
const crypto = require('crypto');

const [file, handlerName, functionName, memoryMb, maxResultText, displayRoot] = process.argv.slice(1);
const maxResultBytes = Number(maxResultText);
const kLogLimitBytes = 1 << 20;  // per invocation; Lambda truncates too
const kIdleLogLimitBytes = 32 << 10;  // lines printed between invocations wait in the pipe
const kLineLimit = 256 << 10;  // one console line; frames stay far below the gateway's limit
const kMessageLimit = 16 << 10;  // an error message

// ---- output frames ------------------------------------------------------------------------
function writeFrame(type, payload) {
  const body = Buffer.from(payload ?? '', 'utf8');
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt32LE(1 + body.length, 0);
  frame[4] = type.charCodeAt(0);
  body.copy(frame, 5);
  try {
    for (let off = 0; off < frame.length;) off += fs.writeSync(4, frame, off);
  } catch {
    process.exit(0);  // the gateway is gone
  }
}

// ---- logs ---------------------------------------------------------------------------------
let current = null;  // the invocation being run: { id, logBytes, truncated, done }
let idleLogBytes = 0;

function emitLine(level, text) {
  if (text.length > kLineLimit) text = text.slice(0, kLineLimit) + ' [line truncated]';
  const id = current ? current.id : 'undefined';
  const line = `${new Date().toISOString()}\t${id}\t${level}\t${text}`;
  if (current) {
    if (current.truncated) return;
    current.logBytes += line.length;
    if (current.logBytes > kLogLimitBytes) {
      current.truncated = true;
      writeFrame('L', `${new Date().toISOString()}\t${id}\t${level}\t[log output truncated]`);
      return;
    }
  } else {
    idleLogBytes += line.length;
    if (idleLogBytes > kIdleLogLimitBytes) return;
  }
  writeFrame('L', line);
}
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG' };
for (const [method, level] of Object.entries(levels))
  console[method] = (...args) => emitLine(level, util.format(...args));
console.trace = (...args) => {
  const err = new Error(util.format(...args));
  err.name = 'Trace';
  emitLine('TRACE', err.stack);
};
for (const [stream, level] of [[process.stdout, 'INFO'], [process.stderr, 'ERROR']]) {
  stream.write = (chunk, encoding, cb) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    emitLine(level, text.replace(/\n$/, ''));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

// ---- errors -------------------------------------------------------------------------------
function display(p) {
  return displayRoot && p.startsWith(displayRoot + '/') ? p.slice(displayRoot.length + 1) : p;
}

function toPath(p) {
  if (p.startsWith('file://')) {
    try { return url.fileURLToPath(p); } catch { return p; }
  }
  return p;
}

// The first stack frame in the user's code: "fns/a.js:3:7" (the runner itself is "[eval]").
function userLocation(stack) {
  if (typeof stack !== 'string') return '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /at (?:.*\()?((?:file:\/\/)?\/[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (m) return `${display(toPath(m[1]))}:${m[2]}:${m[3]}`;
  }
  return '';
}

function describe(err) {
  const text = describeFully(err);
  return text.length > kMessageLimit ? text.slice(0, kMessageLimit) + ' [truncated]' : text;
}

function describeFully(err) {
  try {
    if (err instanceof Error || (err && typeof err === 'object' && typeof err.stack === 'string')) {
      const type = err.name || (err.constructor && err.constructor.name) || 'Error';
      const where = userLocation(err.stack);
      return `${type}: ${err.message}${where ? ` (at ${where})` : ''}`;
    }
    if (typeof err === 'string') return err;
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

// ---- loading ------------------------------------------------------------------------------
function nearestPackageType(dir) {
  for (;;) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type;
    } catch (e) {
      if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') return undefined;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const isModule = file.endsWith('.mjs') ||
                 (!file.endsWith('.cjs') && nearestPackageType(path.dirname(file)) === 'module');

// Where a SyntaxError is: CommonJS puts "path:line" first in the stack; ES module errors do not
// carry it, but node prints it when the import is uncaught, so one short child process asks.
function syntaxLocation(err) {
  const first = typeof err.stack === 'string' ? err.stack.split('\n')[0] : '';
  let m = /^((?:file:\/\/)?\/.*):(\d+)$/.exec(first);
  if (!m && isModule) {
    const probe = require('child_process').spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `import ${JSON.stringify(url.pathToFileURL(file).href)};`],
        { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'ignore', 'pipe'] });
    m = /^((?:file:\/\/)?\/\S*):(\d+)$/m.exec(probe.stderr || '');
  }
  return m ? { path: toPath(m[1]), line: m[2] } : null;
}

function loadErrorMessage(err) {
  const name = display(file);
  if (err instanceof SyntaxError) {
    const where = syntaxLocation(err);
    let at = '';
    if (where) at = where.path === file ? ` (line ${where.line})` : ` (${display(where.path)} line ${where.line})`;
    return `${name}: SyntaxError: ${err.message}${at}`;
  }
  return `${name}: ${describe(err)}`;
}

let handler = null;

async function load() {
  let exported;
  try {
    exported = isModule ? await import(url.pathToFileURL(file).href) : require(file);
  } catch (err) {
    writeFrame('X', loadErrorMessage(err));
    process.exit(1);
  }
  handler = exported ? exported[handlerName] : undefined;
  if (typeof handler !== 'function') {
    const names = exported ? Object.keys(exported).filter((k) => k !== 'default') : [];
    const what = handler === undefined ? 'does not export' : `exports a ${typeof handler} as`;
    writeFrame('X', `${display(file)}: ${what} a function named '${handlerName}'` +
                        ` (exports: ${names.length ? names.join(', ') : 'none'})`);
    process.exit(1);
  }
}

// ---- invocations --------------------------------------------------------------------------
const logStreamName = (() => {
  const d = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/[$LATEST]${crypto.randomBytes(16).toString('hex')}`;
})();
process.env.AWS_LAMBDA_LOG_STREAM_NAME = logStreamName;

function resourceCounts() {
  const counts = new Map();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) || 0) + 1);
  return counts;
}

// callbackWaitsForEmptyEventLoop: Lambda answers a callback-style handler only once the work it
// started (timers, sockets, file reads) is done. The gateway's pipe keeps this loop alive
// forever, so "empty" means: nothing beyond what was active when the invocation began.
function whenLoopSettles(baseline, invocation, then) {
  // A timer or immediate counts itself while its callback runs.
  const settled = (own) => {
    const now = resourceCounts();
    now.set(own, (now.get(own) || 0) - 1);
    for (const [kind, n] of now)
      if (n > (baseline.get(kind) || 0)) return false;
    return true;
  };
  const poll = () => {
    if (invocation.done) return;
    if (settled('Timeout')) then();
    else setTimeout(poll, 1);
  };
  setImmediate(() => {
    if (invocation.done) return;
    if (settled('Immediate')) then();
    else setTimeout(poll, 1);
  });
}

function invoke(id, timeoutMs, eventText) {
  const invocation = { id, logBytes: 0, truncated: false, done: false };
  current = invocation;
  idleLogBytes = 0;
  const deadline = Date.now() + timeoutMs;
  const baseline = resourceCounts();

  const finish = (kind, err, result) => {
    if (invocation.done) return;
    invocation.done = true;
    if (kind === 'threw') {
      writeFrame('E', `threw ${describe(err)}`);
    } else if (kind === 'error') {
      writeFrame('E', `returned an error: ${describe(err)}`);
    } else {
      let text;
      try {
        text = JSON.stringify(result);
      } catch (e) {
        writeFrame('E', `returned a result that cannot be turned into JSON: ${describe(e)}`);
        text = null;
      }
      if (text === undefined) {
        writeFrame('U', '');
      } else if (text !== null) {
        const size = Buffer.byteLength(text);
        if (size > maxResultBytes) writeFrame('T', String(size));
        else writeFrame('O', text);
      }
    }
    if (current === invocation) current = null;
  };

  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: memoryMb,
    awsRequestId: id,
    logGroupName: `/aws/lambda/us-east-1.${functionName}`,
    logStreamName,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  // Callback style: the answer is the callback's, given once the loop settles (see
  // whenLoopSettles); a handler that never calls back answers null once the loop settles.
  let calledBack = null;
  let settling = false;
  const answerCallback = () => {
    if (!calledBack) return finish('ok', null, null);
    const { err, result } = calledBack;
    if (err !== undefined && err !== null) finish('error', err);
    else finish('ok', null, result);
  };
  const settleThenAnswer = () => {
    if (settling) return;
    settling = true;
    whenLoopSettles(baseline, invocation, answerCallback);
  };
  const callback = (err, result) => {
    if (calledBack || invocation.done) return;
    calledBack = { err, result };
    if (context.callbackWaitsForEmptyEventLoop) settleThenAnswer();
    else answerCallback();
  };
  // The callbacks older handlers still use.
  context.done = callback;
  context.succeed = (result) => callback(null, result);
  context.fail = (err) => callback(err ?? new Error('failed'));

  let event;
  try {
    event = JSON.parse(eventText);
  } catch (err) {
    return finish('threw', err);
  }
  let returned;
  try {
    returned = handler(event, context, callback);
  } catch (err) {
    return finish('threw', err);
  }
  if (returned && typeof returned.then === 'function') {
    returned.then((result) => finish('ok', null, result),
                  (err) => finish('threw', err ?? new Error('the handler rejected with ' + err)));
  } else {
    settleThenAnswer();
  }
}

process.on('uncaughtException', (err) => {
  const text = `crashed with an uncaught ${describe(err)}`;
  if (current && !current.done) {
    writeFrame('C', text);
  } else {
    try { fs.writeSync(2, `${display(file)}: ${text} after its invocation returned\n`); } catch {}
  }
  process.exit(1);
});

// ---- input --------------------------------------------------------------------------------
function listen() {
  const input = new net.Socket({ fd: 3, readable: true, writable: false });
  let pending = null;
  input.on('data', (chunk) => {
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    while (pending && pending.length >= 4) {
      const len = pending.readUInt32LE(0);
      if (pending.length < 4 + len) break;
      const frame = pending.subarray(4, 4 + len);
      pending = pending.length > 4 + len ? pending.subarray(4 + len) : null;
      const timeoutMs = frame.readUInt32LE(0);
      const idLen = frame[4];
      const id = frame.toString('utf8', 5, 5 + idLen);
      invoke(id, timeoutMs, frame.toString('utf8', 5 + idLen));
    }
  });
  // The gateway closes the pipe to retire this worker (reload, shutdown).
  input.on('end', () => process.exit(0));
  input.on('error', () => process.exit(0));
}

load().then(() => {
  listen();
  writeFrame('R', '');
});
