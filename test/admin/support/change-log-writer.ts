// Child process for the change-log tests: another process on the same database file.
//   change-log-writer.ts <db file> create <name> <customer id> <target>
//       a provider and a route using it, each its own commit, through outdial's store;
//       prints {"provider": id, "route": id}
//   change-log-writer.ts <db file> priorities <route id> <p1,p2,...>
//       replaces the route's priority with each value in turn, one commit each, through the store
//   change-log-writer.ts <db file> sql <statement>
//       plain SQL through a bare better-sqlite3 connection (no outdial code), as a script would
//   change-log-writer.ts <db file> prune
//       prunes every entry of the change log (retention 0), as an outdial would after an hour
import Database from 'better-sqlite3';
import { createLogger } from '../../../src/log/logger.ts';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';

const [path, what, ...args] = process.argv.slice(2);
if (!path || !what) throw new Error('usage: change-log-writer.ts <db file> create|priorities|sql|prune ...');

if (what === 'sql') {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  db.exec(args[0]!);
  db.close();
  process.stdout.write('{}\n');
} else {
  const store = openSqliteStore({ path, logger: createLogger('silent'), changeLog: { retentionMs: 0, maxEntries: 0 } });
  try {
    if (what === 'create') {
      const [name, customerId, target] = args;
      const provider = await store.providers.create({
        type: 'sip', hostname: `${name}.example.com`, tech_prefix: '', tech_postfix: '', tech_headers: {}, name: name!, detail: '', codecs: '',
      });
      const route = await store.routes.create({ customer_id: customerId!, name: `${name} route`, detail: '', provider_id: provider.id, priority: 1, target: target! });
      process.stdout.write(`${JSON.stringify({ provider: provider.id, route: route.id })}\n`);
    } else if (what === 'priorities') {
      const [routeId, list] = args;
      for (const priority of list!.split(',').map(Number)) {
        const current = (await store.routes.get(routeId!))!;
        await store.routes.replace(routeId!, { name: current.name, detail: current.detail, provider_id: current.provider_id, priority, target: current.target });
      }
      process.stdout.write('{}\n');
    } else if (what === 'prune') {
      let removed = 0;
      for (let n = await store.changeLog.prune(); n > 0; n = await store.changeLog.prune()) removed += n;
      process.stdout.write(`${JSON.stringify({ removed })}\n`);
    } else {
      throw new Error(`unknown step ${what}`);
    }
  } finally {
    await store.close();
  }
}
