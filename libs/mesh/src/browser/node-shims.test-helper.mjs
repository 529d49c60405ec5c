// What rtc.io's original browser code expects of a Node-flavoured bundler (browserify days).
export const process = {
  nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
  env: {},
  browser: true,
  version: '',
  versions: {},
};
export const global = globalThis;
