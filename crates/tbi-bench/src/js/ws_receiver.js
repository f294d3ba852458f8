// The bare receiver of the drain: the `ws` package and two JSON.parse per event (the
// frame, then its data), nothing else: the floor of a JavaScript client.
// Usage: node ws_receiver.js ws://127.0.0.1:PORT APP_KEY CHANNEL COUNT
const WebSocket = require('ws');

const [url, key, channel, countText] = process.argv.slice(2);
const count = Number(countText);
const socket = new WebSocket(`${url}/app/${key}?protocol=7&client=js&version=8.6.0`);
let received = 0;
socket.on('message', (raw) => {
  const frame = JSON.parse(raw);
  switch (frame.event) {
    case 'pusher:connection_established':
      socket.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel } }));
      break;
    case 'pusher_internal:subscription_succeeded':
      process.stdout.write('subscribed\n');
      break;
    case 'pusher:ping':
      socket.send(JSON.stringify({ event: 'pusher:pong', data: {} }));
      break;
    case 'call-status':
      JSON.parse(frame.data);
      received += 1;
      if (received === count) {
        process.stdout.write(`done ${received}\n`, () => process.exit(0));
      }
      break;
    default:
  }
});
