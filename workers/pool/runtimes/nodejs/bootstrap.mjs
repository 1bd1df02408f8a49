/**
 * Tarn Lambda: Node.js runtime bootstrap (a Lambda Runtime API client).
 *
 * Started by a pool worker as `node bootstrap.mjs`. It plays the part of
 * AWS's own Node.js runtime interface client (/var/runtime/index.mjs in the
 * nodejs18.x-22.x images, github.com/aws/aws-lambda-nodejs-runtime-interface-client):
 *
 *   1. patch console.* to print AWS's text log format on stdout,
 *   2. load the handler named by _HANDLER from LAMBDA_TASK_ROOT, reporting a
 *      failure to /runtime/init/error with AWS's error types, then exit,
 *   3. loop on /runtime/invocation/next, call handler(event, context, callback)
 *      and post the result to .../response or the error to .../error.
 *
 * Error types, messages, body shapes, log lines and exit codes follow AWS's
 * client so that code and tooling see the same thing locally as on AWS.
 * Only Node built-ins are used; it must run on Node 18 to 24.
 */

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import util from 'node:util';

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

// AWS keeps the current request id in this global so that libraries
// (e.g. Powertools) can read it; the log prefix reads it from here too.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

// AWS exit codes: 129 after an uncaught exception (init failures included),
// 128 after an unhandled promise rejection.
const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

// What the process-level error handlers need to know.
const state = {
  client: null,
  // The invocation uncaught errors are reported against; undefined during
  // init, where they go to /init/error. Like AWS, it stays set between
  // invocations.
  requestId: undefined,
  dying: false,
};

// CommonJS user code is loaded with require(), as AWS does, so that
// module.exports is what the handler path is resolved against and
// "Require stack" messages look like AWS's.
const runtimeRequire = createRequire(import.meta.url);

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// The runtime's own errors. AWS names them "Runtime.<Class>" by setting the
// name on the prototype, so both err.name and the first stack line carry it.
class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
        'commonly caused by a Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(safeString(reason));
    this.reason = reason;
    this.promise = promise;
  }
}
for (const cls of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

/** String(value) that cannot throw (Symbols, objects without a prototype). */
function safeString(value) {
  try {
    return String(value);
  } catch {
    return '';
  }
}

function isErrorLike(value) {
  return (
    util.types.isNativeError(value) ||
    (value &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string' &&
      value.name !== '' &&
      value.message !== '' &&
      value.stack !== '')
  );
}

/**
 * The JSON body AWS posts for an error: {errorType, errorMessage, trace}.
 * A non-Error (callback("x")) is reported with its typeof as the type.
 */
function toRapidError(error) {
  try {
    if (isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one ' +
        'or more of its message, name, and stack',
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(safeString(value));
}

/**
 * The JSON AWS logs after "Invoke Error" and friends: the error's enumerable
 * properties plus errorType/errorMessage/code and the stack as an array.
 * Starts with a tab, as AWS's does.
 */
function formatErrorForLog(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(toRapidError(error));
  }
}

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const copy = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') copy.stack = value.stack.split('\n');
  return copy;
}

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

const NEWLINES = /\n/g;

/**
 * A console method writing `<ISO time>\t<request id>\t<LEVEL>\t<message>\n`.
 * Newlines inside the message become \r, as on AWS, so that every record is
 * exactly one line of stdout.
 */
function levelLogger(level) {
  return (message, ...params) => {
    const text = util.format(message, ...params);
    const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${text}`;
    process.stdout.write(line.replace(NEWLINES, '\r') + '\n');
  };
}

const logInfo = levelLogger('INFO');
const logError = levelLogger('ERROR');

function patchConsole() {
  console.trace = levelLogger('TRACE');
  console.debug = levelLogger('DEBUG');
  console.info = logInfo;
  console.log = logInfo;
  console.warn = levelLogger('WARN');
  console.error = logError;
  console.fatal = levelLogger('FATAL');
}

/** e.g. `... ERROR\tInvoke Error \t{"errorType":"Error",...}` */
function logRuntimeError(label, error) {
  logError(label, formatErrorForLog(intoError(error)));
}

/**
 * Resolves once everything written to stdout so far has been handed to the
 * OS, so a supervisor reading stdout sees an invocation's logs before its
 * result. Pipes and files are synchronous on Linux, so this is usually null.
 */
function stdoutFlushed() {
  const out = process.stdout;
  if (!out.writableLength) return null;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    out.on('drain', done).on('error', done).on('close', done);
  });
}

// ---------------------------------------------------------------------------
// Runtime API client
// ---------------------------------------------------------------------------

/**
 * One HTTP exchange; resolves to {status, headers, body}. There is no
 * timeout on purpose: /invocation/next blocks until there is work.
 */
function send(options, body, isRetry = false) {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      // A kept-alive socket can be closed by the server just as it is reused;
      // Node's documentation recommends retrying once in exactly that case.
      if (!isRetry && req.reusedSocket && err.code === 'ECONNRESET') {
        resolve(send(options, body, true));
      } else {
        reject(err);
      }
    });
    req.end(body);
  });
}

// Node refuses header values with control characters; an error name is user
// data, so drop what cannot be sent rather than fail the whole report.
const INVALID_HEADER_CHARS = /[^\t\x20-\x7e\x80-\xff]/g;

class RuntimeApiClient {
  constructor(hostPort) {
    const colon = hostPort.lastIndexOf(':');
    this.hostname = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(hostPort.slice(colon + 1));
    // One kept-alive connection, as AWS's client uses; noDelay because every
    // exchange is a small request waiting on a small reply.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
    this.nextOptions = {
      hostname: this.hostname,
      port: this.port,
      path: `${API_PREFIX}/invocation/next`,
      method: 'GET',
      agent: this.agent,
    };
  }

  /** Blocks until the Runtime API hands out an invocation. */
  async next() {
    const res = await send(this.nextOptions);
    if (res.status !== 200) {
      throw new Error(`Runtime API answered ${res.status} to /invocation/next: ${res.body}`);
    }
    return res;
  }

  postResponse(requestId, payload) {
    return this.post(invocationPath(requestId, 'response'), payload);
  }

  postError(requestId, error) {
    const body = toRapidError(error);
    return this.post(invocationPath(requestId, 'error'), JSON.stringify(body), body.errorType);
  }

  /**
   * Reports an error the process will exit on, to /init/error during init.
   * It uses a connection of its own: the kept-alive one may be busy with a
   * blocked /invocation/next.
   */
  postFatal(requestId, error) {
    const body = toRapidError(error);
    const urlPath =
      requestId === undefined ? `${API_PREFIX}/init/error` : invocationPath(requestId, 'error');
    return this.post(urlPath, JSON.stringify(body), body.errorType, false);
  }

  /**
   * POSTs a JSON body once stdout is flushed. A non-2xx answer (e.g. a
   * response too large) is not retried: the Runtime API has recorded it.
   */
  async post(urlPath, payload, errorType, agent = this.agent) {
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
    };
    if (errorType !== undefined) {
      headers[ERROR_TYPE_HEADER] = safeString(errorType).replace(INVALID_HEADER_CHARS, '');
    }
    const flushed = stdoutFlushed();
    if (flushed) await flushed;
    const { hostname, port } = this;
    return send({ hostname, port, path: urlPath, method: 'POST', headers, agent }, payload);
  }
}

function invocationPath(requestId, what) {
  return `${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/${what}`;
}

// ---------------------------------------------------------------------------
// Response streaming: awslambda.streamifyResponse and HttpResponseStream, as
// AWS's runtime provides them. A streamed response is one chunked POST to
// .../response with Lambda-Runtime-Function-Response-Mode: streaming; an error
// after it began goes in its trailers (the body in base64).
// ---------------------------------------------------------------------------

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER = Buffer.alloc(8);

const awslambda = {
  streamifyResponse(handler, options) {
    handler[HANDLER_STREAMING] = STREAM_RESPONSE;
    if (typeof options?.highWaterMark === 'number') {
      handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
    }
    return handler;
  },
  HttpResponseStream: class HttpResponseStream {
    /** Status, headers and cookies first, as a JSON prelude the URL layer reads. */
    static from(stream, prelude) {
      stream.setContentType(HTTP_INTEGRATION_TYPE);
      stream.write(JSON.stringify(prelude ?? {}));
      stream.write(PRELUDE_DELIMITER);
      return stream;
    }
  },
};
globalThis.awslambda = awslambda;

/** The writable the handler gets; resolves `done` once the Runtime API answered. */
function responseStream(client, requestId, highWaterMark) {
  let contentType = 'application/octet-stream';
  let req;
  let answered;
  const open = () => {
    if (req) return req;
    const { hostname, port } = client;
    const headers = {
      'Content-Type': contentType,
      'Transfer-Encoding': 'chunked',
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    };
    const path = invocationPath(requestId, 'response');
    // A connection of its own: a chunked body may not share the kept-alive one.
    req = http.request({ hostname, port, path, method: 'POST', headers, agent: false });
    answered = new Promise((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
    req.setNoDelay(true);
    req.flushHeaders();
    return req;
  };
  const stream = new Writable({
    highWaterMark,
    write(chunk, encoding, callback) {
      open().write(chunk, encoding, callback);
    },
    final(callback) {
      open().end(callback);
    },
  });
  stream.setContentType = (type) => {
    if (req) throw new Error('Cannot set content-type, too late.');
    contentType = type;
  };
  stream.fail = (error) => {
    const body = toRapidError(error);
    const request = open();
    request.addTrailers({
      'Lambda-Runtime-Function-Error-Type': safeString(body.errorType).replace(INVALID_HEADER_CHARS, ''),
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(body)).toString('base64'),
    });
    request.end();
  };
  stream.answered = () => {
    open();
    return answered;
  };
  return stream;
}

/**
 * The invocation in `headers` becomes the current one: its request id for the log lines, its
 * trace id in _X_AMZN_TRACE_ID (removed when it has none). Returns its request id.
 */
function beginInvocation(headers) {
  const requestId = headers['lambda-runtime-aws-request-id'];
  globalThis[REQUEST_ID] = requestId;
  state.requestId = requestId;
  const traceId = headers['lambda-runtime-trace-id'];
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;
  return requestId;
}

/** Runs one invocation of a streamifyResponse handler: handler(event, stream, context). */
async function runStreamingInvocation(client, handler, invocation) {
  const headers = invocation.headers;
  const requestId = beginInvocation(headers);
  const stream = responseStream(client, requestId, handler[HANDLER_HIGHWATERMARK]);
  try {
    const event = JSON.parse(invocation.body);
    const context = buildContext(requestId, headers, { waitForEmptyEventLoop: false });
    await handler(event, stream, context);
    if (!stream.writableEnded) stream.end();
  } catch (err) {
    logRuntimeError('Invoke Error', err);
    if (!stream.writableEnded) stream.fail(err);
  }
  await stream.answered().catch(runtimeApiFailed);
}

// ---------------------------------------------------------------------------
// Loading the handler
// ---------------------------------------------------------------------------

// "module.path.to.fn": the module name is everything before the first dot.
const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

/**
 * Resolves `_HANDLER` (e.g. "src/app.lambdaHandler" or "index.a.b") to a
 * function, throwing AWS's Runtime.* errors when that is not possible.
 */
async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying ` +
        'root directories in handler names.',
    );
  }
  // "src/app.handler" -> module root "src/", then "app" + "handler".
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndHandler));
  const match = FUNCTION_EXPR.exec(moduleAndHandler);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;

  const userModule = await loadUserModule(appRoot, moduleRoot, moduleName);
  const handler = handlerPath.split('.').reduce((obj, key) => obj && obj[key], userModule);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

/** Loads the user's module, mapping load failures to AWS's error types. */
async function loadUserModule(appRoot, moduleRoot, moduleName) {
  try {
    return await findAndLoadModule(appRoot, moduleRoot, moduleName);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err);
    // MODULE_NOT_FOUND is CommonJS's code. An ESM import of a missing
    // package fails with ERR_MODULE_NOT_FOUND and, as on AWS, stays as it is.
    if (err && err.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(err);
    throw err;
  }
}

/**
 * AWS's lookup order for <root>/<moduleRoot>/<module>: the extensionless
 * file, then .js (CommonJS unless the nearest package.json says
 * "type": "module"), .mjs, .cjs, TypeScript on Node >= 24, and finally
 * Node's own resolution (node_modules, NODE_PATH) from the task root.
 */
async function findAndLoadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);

  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;

  const typeModule = isTypeModuleFolder(path.dirname(base));
  if (!typeModule) {
    const cjs = requireIfExists(base + '.js');
    if (cjs) return cjs;
  }

  const typeScript = nodeMajor() >= 24;
  const loaded =
    (typeModule && (await importIfExists(base + '.js'))) ||
    (await importIfExists(base + '.mjs')) ||
    requireIfExists(base + '.cjs') ||
    (typeScript && !typeModule && requireIfExists(base + '.ts')) ||
    (typeScript && typeModule && (await importIfExists(base + '.ts'))) ||
    (typeScript && (await importIfExists(base + '.mts'))) ||
    (typeScript && requireIfExists(base + '.cts'));
  if (loaded) return loaded;

  // Throws MODULE_NOT_FOUND ("Cannot find module 'index'\nRequire stack:...")
  // when nothing matches, which becomes Runtime.ImportModuleError.
  const resolved = runtimeRequire.resolve(moduleName, {
    paths: [appRoot, path.join(appRoot, moduleRoot)],
  });
  return runtimeRequire(resolved);
}

function requireIfExists(file) {
  return fs.existsSync(file) ? runtimeRequire(file) : undefined;
}

async function importIfExists(file) {
  return fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

function nodeMajor() {
  return Number.parseInt(process.versions.node, 10);
}

/**
 * Whether the nearest package.json above `folder` has "type": "module".
 * Like AWS, the search stops at a node_modules folder and at the root.
 */
function isTypeModuleFolder(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith('/node_modules')) return false;
    const packageJson = path.join(dir, 'package.json');
    if (fs.existsSync(packageJson)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(packageJson, 'utf8'));
        if (pkg) return pkg.type === 'module';
      } catch (err) {
        console.warn(
          `${packageJson} cannot be read, it will be ignored for ES module detection purposes.`,
          err,
        );
        return false;
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}

function isAsyncFunction(fn) {
  try {
    return fn.constructor?.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Invocations
// ---------------------------------------------------------------------------

// Run when the event loop drains during an invocation: either the result of
// a callback handler waiting for an empty event loop, or the default for a
// handler that never reported a result. One-shot.
let beforeExitAction = null;

function onBeforeExit() {
  const action = beforeExitAction;
  beforeExitAction = null;
  if (action) action();
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function isPromise(value) {
  return value && value.then && typeof value.then === 'function';
}

/**
 * The context object AWS passes, in AWS's property order (it shows in
 * JSON.stringify(context)). Throws on a malformed client context/identity.
 */
function buildContext(requestId, headers, callbacks) {
  const env = process.env;
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    get callbackWaitsForEmptyEventLoop() {
      return callbacks.waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      callbacks.waitForEmptyEventLoop = value;
    },
    succeed: callbacks.succeed,
    fail: callbacks.fail,
    done: callbacks.done,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: requestId,
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/**
 * Runs one invocation; resolves once its result or error has been posted.
 *
 * The rules are AWS's: the first of callback/succeed/fail/done wins; a
 * returned promise settles the invocation as soon as it settles; a callback
 * result is held until the event loop is empty unless
 * context.callbackWaitsForEmptyEventLoop is false; and if the loop empties
 * with nothing reported, an async handler fails with Runtime.NodeJsExit
 * while any other handler succeeds with null.
 */
function runInvocation(client, handler, handlerIsAsync, invocation) {
  const headers = invocation.headers;
  const requestId = beginInvocation(headers);

  return new Promise((settle) => {
    let reported = false; // a result or error has gone to the Runtime API
    let finished = false; // callback/succeed/fail/done has been called

    const report = (posting) => {
      reported = true;
      beforeExitAction = null;
      posting.then(settle, runtimeApiFailed);
    };
    const alreadyReported = () => {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once ' +
          'per invocation.',
      );
    };
    const postError = (err) => {
      if (reported) return alreadyReported();
      logRuntimeError('Invoke Error', err);
      report(client.postError(requestId, err));
    };
    const complete = (result) => {
      if (reported) return alreadyReported();
      let payload;
      try {
        payload = JSON.stringify(result === undefined ? null : result) ?? 'null';
      } catch {
        return postError(new Error('Unable to stringify response body'));
      }
      report(client.postResponse(requestId, payload));
    };

    const callbacks = {
      waitForEmptyEventLoop: true,
      done(err, result) {
        if (finished) return;
        finished = true;
        beforeExitAction = null;
        if (err !== undefined && err !== null) postError(err);
        else complete(result);
      },
      succeed: (result) => callbacks.done(null, result),
      fail: (err) => callbacks.done(err === undefined || err === null ? 'handled' : err, null),
    };
    const callback = (err, result) => {
      if (finished) return;
      finished = true;
      beforeExitAction = null;
      if (err !== undefined && err !== null) postError(err);
      else if (!callbacks.waitForEmptyEventLoop) complete(result);
      else beforeExitAction = () => setImmediate(() => complete(result));
    };

    // Nothing reported by the time the event loop is empty.
    beforeExitAction = () => {
      if (reported) return;
      if (handlerIsAsync) {
        const err = new NodeJsExit();
        logRuntimeError('Invoke Error', err);
        report(client.postError(requestId, err));
      } else {
        report(client.postResponse(requestId, 'null'));
      }
    };

    try {
      const event = JSON.parse(invocation.body);
      const context = buildContext(requestId, headers, callbacks);
      const result = handler(event, context, callback);
      if (isPromise(result)) {
        result.then(callbacks.succeed, callbacks.fail).catch(callbacks.fail);
      }
    } catch (err) {
      callback(err);
    }
  });
}

// ---------------------------------------------------------------------------
// Process-level failures
// ---------------------------------------------------------------------------

/** Reports an error the process cannot continue after, then exits. */
function dieWith(error, exitCode) {
  if (state.dying) return;
  state.dying = true;
  if (!state.client) process.exit(exitCode);
  // Exit even if the Runtime API never answers; unref'd so as not to delay
  // the exit once the report is through.
  setTimeout(() => process.exit(exitCode), 2000).unref();
  state.client
    .postFatal(state.requestId, error)
    .catch(() => {})
    .finally(() => process.exit(exitCode));
}

function onUncaughtException(error) {
  logRuntimeError('Uncaught Exception', error);
  dieWith(error, EXIT_UNCAUGHT_EXCEPTION);
}

function onUnhandledRejection(reason, promise) {
  const error = new UnhandledPromiseRejection(reason, promise);
  logRuntimeError('Unhandled Promise Rejection', error);
  dieWith(error, EXIT_UNHANDLED_REJECTION);
}

/** The Runtime API itself failed: nothing can be reported, so just exit. */
function runtimeApiFailed(err) {
  logInfo(`Unexpected Top Level Error: ${safeString(err)}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  patchConsole();
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!api) throw new Error('Missing Runtime API Server configuration.');
  const client = new RuntimeApiClient(api);
  state.client = client;

  process.on('uncaughtException', onUncaughtException);
  process.on('unhandledRejection', onUnhandledRejection);
  process.on('beforeExit', onBeforeExit);

  let handler;
  try {
    const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
  } catch (err) {
    // AWS reports init failures through its uncaught-exception path.
    onUncaughtException(err);
    return;
  }

  const handlerIsAsync = isAsyncFunction(handler);
  const streams = handler[HANDLER_STREAMING] === STREAM_RESPONSE;
  for (;;) {
    const invocation = await client.next();
    if (streams) await runStreamingInvocation(client, handler, invocation);
    else await runInvocation(client, handler, handlerIsAsync, invocation);
  }
}

main().catch(runtimeApiFailed);
