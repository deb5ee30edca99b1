/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
// Stand-in for drachtio-srf's test/sipp.js: the same API, running sipp on loopback addresses
// (test/srf-suite/testbed.json) instead of `docker run` on the 172.29.0.0/16 testbed network.
const { spawn } = require('child_process');
const path = require('path');
const testbed = require('./testbed.json');

let output = '';
let idx = 1;
const scenarios = path.join(__dirname, 'scenarios');
const sut = testbed.edges['drachtio-sut'];
let nextPort = 16000 + Math.floor(Math.random() * 2000);

function addOutput(str) {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) < 128) output += str.charAt(i);
}

function runSipp(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      console.log(`sipp exited with non-zero code ${code} signal ${signal}`);
      reject(code);
    });
    child.on('error', () => console.log(`error spawning sipp: ${args}`));
    child.stdout.on('data', (d) => addOutput(d.toString()));
    child.stderr.on('data', (d) => addOutput(d.toString()));
  });
}

module.exports = () => ({
  output: () => output,
  sippUac(file) {
    output = '';
    return runSipp([
      // as in the docker original, unbounded (subscribe.js leaves its sipp waiting for a NOTIFY):
      // the runner stops the whole process group once tape has reported
      '-sf', path.join(scenarios, file), '-m', '1', '-sleep', '250ms', '-nostdin',
      '-cid_str', `%u-%p@%s-${idx++}`,
      '-i', testbed.uacAddress, '-p', String(nextPort++),
      `${sut.address}:${sut.sipPort}`,
    ]);
  },
  // the runner has already turned the container name into its address; either is accepted
  sippUas(file, containerName) {
    const address = testbed.onDemandUas[containerName] || containerName;
    return runSipp(['-sf', path.join(scenarios, file), '-m', '1', '-nostdin', '-i', address, '-p', '5060']);
  },
});
