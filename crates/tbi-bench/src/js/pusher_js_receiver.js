// The pusher-js receiver of the drain: subscribes to a public channel, counts the
// `call-status` events and says "subscribed" and "done N" on stdout.
// Usage: node pusher_js_receiver.js ws://127.0.0.1:PORT APP_KEY CHANNEL COUNT
const Pusher = require('pusher-js');

const [url, key, channelName, countText] = process.argv.slice(2);
const count = Number(countText);
const { hostname, port } = new URL(url);
const pusher = new Pusher(key, {
  cluster: 'mt1',
  wsHost: hostname,
  wsPort: Number(port),
  forceTLS: false,
  enabledTransports: ['ws'],
  disableStats: true,
});
let received = 0;
const channel = pusher.subscribe(channelName);
channel.bind('pusher:subscription_succeeded', () => process.stdout.write('subscribed\n'));
channel.bind('call-status', () => {
  received += 1;
  if (received === count) {
    process.stdout.write(`done ${received}\n`, () => process.exit(0));
  }
});
