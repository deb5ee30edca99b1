/**
 * drachtio-srf's SIP parser reads `process.env.DRACHTIO_PRESERVE_HEADER_NAMES` once for every
 * header of every message it parses (lib/sip-parser/parser.js, getHeaderName). `process.env` is
 * an interceptor over the C environment, about 250 ns a read on the bench machine, and srf parses
 * a few hundred headers per call: CPU per call fell from 4.83 to 4.48 ms with reads served from a
 * copy (docs/performance.md §11). `outdial start` puts `cachedEnvironment(process.env)` in its
 * place: reads come from a plain object, and writes and deletes still reach the real environment,
 * so child processes and worker threads see what they saw before.
 */
export function cachedEnvironment(real: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...real };
  return new Proxy(copy, {
    set(target, key, value) {
      if (typeof key === 'symbol') return Reflect.set(target, key, value);
      real[key] = value as string;
      // the real environment keeps strings only (undefined becomes "undefined"): read back what it kept
      target[key] = real[key];
      return true;
    },
    deleteProperty(target, key) {
      if (typeof key !== 'symbol') delete real[key];
      return Reflect.deleteProperty(target, key);
    },
    defineProperty(target, key, descriptor) {
      if (typeof key === 'symbol' || !('value' in descriptor)) return Reflect.defineProperty(target, key, descriptor);
      real[key] = descriptor.value as string;
      target[key] = real[key];
      return true;
    },
  });
}
