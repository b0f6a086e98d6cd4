// supra sw build: __BUILD_ID__
// GENERATED into public/sw.js by scripts/build-sw.sh from sw/sw.template.js. Edit the template.
// Module service worker (register with {type: 'module', updateViaCache: 'none'}).
// Listeners are added synchronously during the first evaluation; the logic lives in
// the Rust crate `sw` (public/sw-pkg/, wasm-bindgen --target web).
import init, { on_install, on_activate, on_fetch, on_message, on_sync } from './sw-pkg/sw.js';

const BUILD_ID = '__BUILD_ID__';
// Must equal the Rust side's cache name: "supra-shell-" + SUPRA_BUILD_ID.
const CACHE = 'supra-shell-' + BUILD_ID;
const WASM_URL = '/sw-pkg/sw_bg.wasm';

// Load the wasm from THIS build's cache first, so an offline restart of the worker
// works. Only this build's cache: during an update the previous build's cache still
// holds an older sw_bg.wasm that does not match the new JS glue.
const ready = (async () => {
  const cached = await caches.match(WASM_URL, { cacheName: CACHE });
  await init({ module_or_path: cached ?? fetch(WASM_URL, { cache: 'no-cache' }) });
})();
ready.catch((err) => console.error('supra sw: wasm init failed', err));

self.addEventListener('install', (e) => {
  e.waitUntil(ready.then(() => on_install()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(ready.then(() => on_activate()));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  if (new URL(req.url).origin !== self.location.origin) return;
  // If the wasm could not be loaded (or the handler failed), behave as if there
  // were no service worker instead of failing the request.
  e.respondWith(
    ready.then(() => on_fetch(req, e)).catch(() => fetch(req)),
  );
});

// The page posts 'clear-private' at logout. If it passes a MessagePort, it gets
// 'done' (or 'error') back when the cache has been cleaned.
self.addEventListener('message', (e) => {
  const port = e.ports && e.ports[0];
  e.waitUntil(
    ready
      .then(() => on_message(e.data))
      .then(
        () => port && port.postMessage('done'),
        (err) => {
          console.error('supra sw: message handler failed', err);
          if (port) port.postMessage('error');
        },
      ),
  );
});

// Background Sync: the app registers 'supra-lecturas' when it keeps a meter reading
// without signal; the worker sends the queue (IndexedDB) when the signal comes back,
// even with the app closed. A rejected promise makes the browser try again later.
self.addEventListener('sync', (e) => {
  if (e.tag !== 'supra-lecturas') return;
  e.waitUntil(ready.then(() => on_sync(e.tag)));
});
