// Child process for the two-process test: opens the same database file and writes providers.
import { createLogger } from '../../../src/log/logger.ts';
import { openStore } from '../../../src/store/store.ts';

const [path, countText, tag] = process.argv.slice(2);
const store = await openStore({ path: path!, logger: createLogger('silent') });
// A pause after each write leaves the parent room to write in between, so the two writers
// really alternate (a tight loop can finish all its rows inside one of the parent's gaps).
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < Number(countText); i++) {
  if (i > 0) Atomics.wait(pause, 0, 0, 1);
  await store.providers.create({
    type: 'sip', hostname: `${tag}-${i}.example.com`, tech_prefix: '', tech_postfix: '', tech_headers: {}, name: `${tag}-${i}`, detail: '', codecs: '',
  });
}
await store.close();
process.stdout.write('done\n');
