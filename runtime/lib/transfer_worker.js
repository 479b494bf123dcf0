'use strict';
// Echo worker for measuring hand-over times between two device workers.
const { parentPort, workerData } = require('worker_threads');
const { pinThisThread } = require('./session');
if (workerData && workerData.pin) pinThisThread(workerData.pin);
parentPort.on('message', (m) => parentPort.postMessage(m));
