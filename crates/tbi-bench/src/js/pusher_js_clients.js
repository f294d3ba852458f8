// The pusher-js side of the connections benchmark: N clients in this one process, each
// subscribed to a private channel of its own (through the auth endpoint) and to one
// shared public channel. Says "subscribed <ms> <rss before> <rss after> <heap after>"
// once every subscription succeeded, then "latency <received> <p50 ns> <p99 ns>" once
// every client has the broadcast (or 60 s passed).
// Usage: node pusher_js_clients.js ws://127.0.0.1:PORT APP_KEY AUTH_URL COUNT
const Pusher = require('pusher-js');

const [url, key, auth, countText] = process.argv.slice(2);
const count = Number(countText);
const { hostname, port } = new URL(url);
const nowNanos = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

const before = process.memoryUsage().rss;
const started = performance.now();
const latencies = [];
let subscribed = 0;
const clients = [];
const onSubscribed = () => {
  subscribed += 1;
  if (subscribed === count * 2) {
    const ms = Math.round(performance.now() - started);
    if (global.gc) global.gc();
    const memory = process.memoryUsage();
    process.stdout.write(`subscribed ${ms} ${before} ${memory.rss} ${memory.heapUsed}\n`);
    setTimeout(finish, 60000);
  }
};
const finish = () => {
  latencies.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.round((latencies.length - 1) * p))] : 0n);
  process.stdout.write(`latency ${latencies.length} ${at(0.5)} ${at(0.99)}\n`, () => process.exit(0));
};
for (let n = 0; n < count; n += 1) {
  const pusher = new Pusher(key, {
    cluster: 'mt1',
    wsHost: hostname,
    wsPort: Number(port),
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: { endpoint: auth, transport: 'ajax' },
  });
  pusher.subscribe(`private-bench-${n}`).bind('pusher:subscription_succeeded', onSubscribed);
  const shared = pusher.subscribe('bench-broadcast');
  shared.bind('pusher:subscription_succeeded', onSubscribed);
  shared.bind('broadcast', (data) => {
    const sent = BigInt(String(data).trim().replace(/^t/, ''));
    latencies.push(nowNanos() - sent);
    if (latencies.length === count) finish();
  });
  clients.push(pusher);
}
