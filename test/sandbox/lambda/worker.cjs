'use strict';
/**
 * One emulated Lambda execution environment: loads the bundled handler
 * unmodified (init = cold start) and invokes it for each IPC message.
 *
 *   node worker.cjs <codeDir> <handler, e.g. functions/lifecycle/handler.handler>
 *
 * Parent -> worker: { type: 'invoke', id, event, deadlineMs, requestId, functionName, functionArn, memoryMb }
 * Worker -> parent: { type: 'ready', initMs, error? } once, then { type: 'result', id, ok, result?, error? }
 * The function's own logs go to stdout/stderr untouched.
 */
const path = require('node:path');

const [codeDir, handlerSpec] = process.argv.slice(2);
if (!codeDir || !handlerSpec || !handlerSpec.includes('.')) {
  process.stderr.write('usage: worker.cjs <codeDir> <module.export>\n');
  process.exit(2);
}
if (typeof process.send !== 'function') {
  process.stderr.write('worker.cjs must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

function serializeError(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

let handler;
let initError;
const initStart = process.hrtime.bigint();
try {
  const dot = handlerSpec.lastIndexOf('.');
  const moduleFile = path.resolve(codeDir, handlerSpec.slice(0, dot));
  const exportName = handlerSpec.slice(dot + 1);
  const mod = require(moduleFile);
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported as a function`), { name: 'Runtime.HandlerNotFound' });
  }
} catch (error) {
  initError = serializeError(error);
  process.stderr.write(`INIT_ERROR ${JSON.stringify(initError)}\n`);
}
const initMs = Number(process.hrtime.bigint() - initStart) / 1e6;

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`UNHANDLED_REJECTION ${JSON.stringify(serializeError(reason))}\n`);
});

function invoke(msg) {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: msg.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: msg.functionArn,
    memoryLimitInMB: String(msg.memoryMb),
    awsRequestId: msg.requestId,
    logGroupName: `/aws/lambda/${msg.functionName}`,
    // The stream the runner writes this environment's lines to (lambda/log-shipper.ts), as Lambda names it.
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME || `emulated/[$LATEST]${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const out = handler(msg.event, context, callback);
      if (out && typeof out.then === 'function') out.then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

process.on('message', (msg) => {
  if (!msg || msg.type !== 'invoke') return;
  if (initError) {
    process.send({ type: 'result', id: msg.id, ok: false, error: initError });
    return;
  }
  invoke(msg).then(
    (result) => process.send({ type: 'result', id: msg.id, ok: true, result: result === undefined ? null : result }),
    (error) => process.send({ type: 'result', id: msg.id, ok: false, error: serializeError(error) }),
  );
});

process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', initMs, ...(initError ? { error: initError } : {}) });
