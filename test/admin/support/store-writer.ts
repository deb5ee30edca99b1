// Child process for the two-process test: opens the same database file and writes providers.
import { createLogger } from '../../../src/log/logger.ts';
import { openStore } from '../../../src/store/store.ts';

const [path, countText, tag] = process.argv.slice(2);
const store = openStore({ path: path!, logger: createLogger('silent') });
for (let i = 0; i < Number(countText); i++) {
  store.providers.create({
    type: 'sip', hostname: `${tag}-${i}.example.com`, tech_prefix: '', tech_postfix: '', tech_headers: {}, name: `${tag}-${i}`, detail: '', codecs: '',
  });
}
store.close();
process.stdout.write('done\n');
